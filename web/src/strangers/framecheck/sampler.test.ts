import { describe, expect, it } from 'vitest';
import { FrameSampler, type SamplerDeps } from './sampler';
import type { UploadOutcome } from './uploader';

/** A hand-driven clock: timers fire only when the test advances it. */
class Clock {
  now = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private seq = 0;
  set = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.push({ at: this.now + ms, fn, id });
    return id;
  };
  clear = (h: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== h);
  };
  get pending(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (let guard = 0; guard < 1000; guard++) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > end) break;
      this.timers.shift();
      this.now = t.at;
      t.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.now = end;
  }
}

const TRACK = { kind: 'video', readyState: 'live', enabled: true } as unknown as MediaStreamTrack;
const JPEG = new Blob([new Uint8Array([0xff, 0xd8])], { type: 'image/jpeg' });

function setup(over: Partial<SamplerDeps> = {}, outcomes: UploadOutcome[] = []) {
  const clock = new Clock();
  const sentAt: number[] = [];
  const grabs: Array<[number, number]> = [];
  const deps: SamplerDeps = {
    policy: { firstAfterMs: 2000, meanIntervalMs: 10000, maxWidth: 320, jpegQuality: 0.6 },
    track: () => TRACK,
    grab: async (_t, w, q) => {
      grabs.push([w, q]);
      return JPEG;
    },
    send: async () => {
      sentAt.push(clock.now);
      return outcomes.shift() ?? { kind: 'sent', queued: true };
    },
    random: () => 1 - Math.exp(-1), // every wait is exactly the mean
    setTimer: clock.set,
    clearTimer: clock.clear,
    now: () => clock.now,
    ...over,
  };
  return { clock, sentAt, grabs, sampler: new FrameSampler(deps) };
}

describe('FrameSampler', () => {
  it('sends the first frame after firstAfterMs, then one per interval, at the policy size and quality', async () => {
    const { clock, sentAt, grabs, sampler } = setup();
    sampler.start();
    await clock.advance(1999);
    expect(sentAt).toEqual([]);
    await clock.advance(1);
    expect(sentAt).toEqual([2000]);
    await clock.advance(30000);
    expect(sentAt).toEqual([2000, 12000, 22000, 32000]);
    expect(grabs[0]).toEqual([320, 0.6]);
    expect(sampler.stats.sent).toBe(4);
    expect(sampler.stats.sentAt).toEqual([2000, 12000, 22000, 32000]);
  });

  it('stop() cancels the pending frame; nothing is sent afterwards', async () => {
    const { clock, sentAt, sampler } = setup();
    sampler.start();
    await clock.advance(2000);
    sampler.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(60000);
    expect(sentAt).toEqual([2000]);
    expect(sampler.active).toBe(false);
  });

  it('a frame that was being taken when stopped is not sent', async () => {
    let release: (b: Blob) => void = () => undefined;
    const { clock, sentAt, sampler } = setup({ grab: () => new Promise<Blob>((r) => (release = r)) });
    sampler.start();
    await clock.advance(2000);
    sampler.stop();
    release(JPEG);
    await clock.advance(0);
    expect(sentAt).toEqual([]);
  });

  it('stops for good when the server answers 403/404/409', async () => {
    const { clock, sentAt, sampler } = setup({}, [{ kind: 'sent', queued: true }, { kind: 'stop', code: 'not_in_session' }]);
    sampler.start();
    await clock.advance(100000);
    expect(sentAt).toEqual([2000, 12000]);
    expect(sampler.active).toBe(false);
    expect(sampler.stats.stoppedBy).toBe('not_in_session');
  });

  it('backs off after a 429 for as long as the server said', async () => {
    const { clock, sentAt, sampler } = setup({}, [{ kind: 'backoff', retryAfterMs: 45000 }]);
    sampler.start();
    await clock.advance(60000);
    expect(sentAt).toEqual([2000, 47000, 57000]);
    expect(sampler.stats.backoffs).toBe(1);
  });

  it('keeps its pace after a failed upload', async () => {
    const { clock, sentAt, sampler } = setup({}, [{ kind: 'failed', status: 500, code: 'http_500' }]);
    sampler.start();
    await clock.advance(12000);
    expect(sentAt).toEqual([2000, 12000]);
    expect(sampler.stats.failed).toBe(1);
  });

  it('takes nothing while there is no camera track (camera off), and resumes when it is back', async () => {
    let on = false;
    const { clock, sentAt, grabs, sampler } = setup({ track: () => (on ? TRACK : null) });
    sampler.start();
    await clock.advance(22000);
    expect(grabs).toEqual([]);
    expect(sentAt).toEqual([]);
    expect(sampler.stats.skipped).toBe(3);
    on = true;
    await clock.advance(10000);
    expect(sentAt).toEqual([32000]);
  });

  it('a picture that could not be taken is skipped, not sent', async () => {
    const { clock, sentAt, sampler } = setup({ grab: async () => null });
    sampler.start();
    await clock.advance(12000);
    expect(sentAt).toEqual([]);
    expect(sampler.stats.skipped).toBe(2);
  });

  it('random waits stay within [0.25, 4] × the mean', async () => {
    let i = 0;
    const draws = [0, 0.5, 0.999999, 0.3];
    const { clock, sampler } = setup({ random: () => draws[i++ % draws.length]! });
    sampler.start();
    await clock.advance(200000);
    const later = sampler.stats.delays.slice(1);
    expect(sampler.stats.delays[0]).toBe(2000);
    expect(Math.min(...later)).toBeGreaterThanOrEqual(2500);
    expect(Math.max(...later)).toBeLessThanOrEqual(40000);
    expect(later.slice(0, 4)).toEqual([2500, 6931, 40000, 3567]);
  });
});
