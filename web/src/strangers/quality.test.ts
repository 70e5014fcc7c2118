import { describe, expect, it } from 'vitest';
import { classifyQuality, sampleStats, type QualitySample } from './quality';

function report(entries: Array<Record<string, unknown>>) {
  return { forEach: (cb: (s: Record<string, unknown>) => void) => entries.forEach(cb) };
}

describe('classifyQuality', () => {
  it('is good when every figure is inside its band', () => {
    expect(classifyQuality({ rttMs: 40, lossPct: 0, kbps: 1200 })).toBe('good');
  });
  it('the worst figure decides', () => {
    expect(classifyQuality({ rttMs: 300, lossPct: 0, kbps: 1200 })).toBe('fair');
    expect(classifyQuality({ rttMs: 40, lossPct: 3, kbps: 1200 })).toBe('fair');
    expect(classifyQuality({ rttMs: 40, lossPct: 0, kbps: 250 })).toBe('fair');
    expect(classifyQuality({ rttMs: 600, lossPct: 0, kbps: 1200 })).toBe('poor');
    expect(classifyQuality({ rttMs: 40, lossPct: 10, kbps: 1200 })).toBe('poor');
    expect(classifyQuality({ rttMs: 300, lossPct: 9, kbps: 50 })).toBe('poor');
  });
  it('ignores the bitrate when no video is expected (partner camera off)', () => {
    expect(classifyQuality({ rttMs: 40, lossPct: 0, kbps: 30 }, false)).toBe('good');
  });
  it('says nothing without any figure', () => {
    expect(classifyQuality({ rttMs: null, lossPct: null, kbps: null })).toBeNull();
  });
});

describe('sampleStats', () => {
  const base = (rx: number, lost: number, bytes: number) =>
    report([
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', currentRoundTripTime: 0.123 },
      { id: 'V', type: 'inbound-rtp', kind: 'video', packetsReceived: rx, packetsLost: lost, bytesReceived: bytes },
      { id: 'A', type: 'inbound-rtp', kind: 'audio', packetsReceived: 0, packetsLost: 0, bytesReceived: 0 },
    ]);

  it('reads RTT at once and derives loss and bitrate from the previous sample', () => {
    const first = sampleStats(base(1000, 0, 100_000), 1000, null);
    expect(first).toMatchObject({ rttMs: 123, lossPct: null, kbps: null });
    const second: QualitySample = sampleStats(base(1950, 50, 350_000), 3000, first);
    expect(second.lossPct).toBe(5); // 50 lost of 1000 in the interval
    expect(second.kbps).toBe(1000); // 250 000 bytes in 2 s
    expect(classifyQuality(second)).toBe('fair');
  });

  it('falls back to the selected candidate pair without a transport entry', () => {
    const s = sampleStats(report([{ id: 'P', type: 'candidate-pair', selected: true, currentRoundTripTime: 0.6 }]), 0, null);
    expect(s.rttMs).toBe(600);
  });
});
