import { describe, expect, it } from 'vitest';
import { MAX_FACTOR, MIN_FACTOR, backoffMs, nextDelayMs, parsePolicy, scaledSize } from './schedule';

describe('parsePolicy', () => {
  it('takes the matched event policy as sent', () => {
    expect(parsePolicy({ firstAfterMs: 2000, meanIntervalMs: 30000, maxWidth: 320, jpegQuality: 0.7 })).toEqual({
      firstAfterMs: 2000,
      meanIntervalMs: 30000,
      maxWidth: 320,
      jpegQuality: 0.7,
    });
  });

  it('samples nothing without a usable policy', () => {
    for (const bad of [undefined, null, 'x', {}, { firstAfterMs: 1, meanIntervalMs: 0, maxWidth: 320, jpegQuality: 0.7 }, { firstAfterMs: -1, meanIntervalMs: 1000, maxWidth: 320, jpegQuality: 0.7 }, { firstAfterMs: 1, meanIntervalMs: 1000, maxWidth: '320', jpegQuality: 0.7 }, { firstAfterMs: 1, meanIntervalMs: Infinity, maxWidth: 320, jpegQuality: 0.7 }])
      expect(parsePolicy(bad)).toBeNull();
  });

  it('bounds a hostile policy: no sub-second interval, no huge frames, quality at most 1', () => {
    expect(parsePolicy({ firstAfterMs: 0, meanIntervalMs: 5, maxWidth: 100000, jpegQuality: 9 })).toEqual({
      firstAfterMs: 0,
      meanIntervalMs: 1000,
      maxWidth: 1280,
      jpegQuality: 1,
    });
  });
});

describe('nextDelayMs', () => {
  it('is the exponential inverse transform of the uniform draw', () => {
    // u = 1 - e^-1 → exactly one mean.
    expect(nextDelayMs(10000, () => 1 - Math.exp(-1))).toBe(10000);
    expect(nextDelayMs(10000, () => 1 - Math.exp(-2))).toBe(20000);
  });

  it('is clamped to [0.25, 4] × the mean at both ends', () => {
    expect(nextDelayMs(10000, () => 0)).toBe(10000 * MIN_FACTOR);
    expect(nextDelayMs(10000, () => 0.999999999)).toBe(10000 * MAX_FACTOR);
    expect(nextDelayMs(10000, () => 1)).toBe(10000 * MAX_FACTOR);
  });

  it('averages near the mean over many draws (a seeded generator)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const draws = Array.from({ length: 5000 }, () => nextDelayMs(1000, rnd));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(250);
    expect(Math.max(...draws)).toBeLessThanOrEqual(4000);
    const sum = draws.reduce((a, b) => a + b, 0);
    const n = draws.length;
    // The clamp moves the mean a little (the short waits are lengthened): within 10 %.
    expect(sum / n).toBeGreaterThan(900);
    expect(sum / n).toBeLessThan(1100);
  });
});

describe('backoffMs', () => {
  it('waits what the server said, at least a quarter of the mean', () => {
    expect(backoffMs(60000, 10000)).toBe(60000);
    expect(backoffMs(100, 10000)).toBe(2500);
    expect(backoffMs(undefined, 10000)).toBe(10000);
  });
});

describe('scaledSize', () => {
  it('scales down to the maximum width and keeps the aspect', () => {
    expect(scaledSize(1280, 720, 320)).toEqual({ width: 320, height: 180 });
    expect(scaledSize(640, 480, 320)).toEqual({ width: 320, height: 240 });
    expect(scaledSize(720, 1280, 320)).toEqual({ width: 320, height: 569 });
  });

  it('never enlarges a small frame and never reaches zero', () => {
    expect(scaledSize(160, 120, 320)).toEqual({ width: 160, height: 120 });
    expect(scaledSize(4000, 3, 320)).toEqual({ width: 320, height: 1 });
  });

  it('has no size for an empty picture', () => {
    expect(scaledSize(0, 480, 320)).toBeNull();
    expect(scaledSize(640, 0, 320)).toBeNull();
    expect(scaledSize(NaN, 480, 320)).toBeNull();
  });
});
