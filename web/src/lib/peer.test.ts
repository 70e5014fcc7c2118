import { describe, expect, it, vi } from 'vitest';
import type { CallStats } from '../protocol';
import { callStatsWithMedia, extractCallStats, FIRST_FIGURES_MS, PeerCall, toRtcIceServers, type Signal } from './peer';

const report = (entries: Record<string, any>[]) => new Map(entries.map((e) => [e.id, e]));

describe('extractCallStats', () => {
  it('uses the transport selected pair and its local candidate type', () => {
    const r = report([
      { id: 'T1', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', nominated: true, state: 'succeeded' },
      { id: 'P2', type: 'candidate-pair', localCandidateId: 'L2', currentRoundTripTime: 0.0234 },
      { id: 'L1', type: 'local-candidate', candidateType: 'host' },
      { id: 'L2', type: 'local-candidate', candidateType: 'relay' },
    ]);
    expect(extractCallStats(r, 'connected')).toEqual({ iceState: 'connected', candidateType: 'relay', rttMs: 23 });
  });
  it('falls back to a nominated succeeded pair and reports prflx as such', () => {
    const r = report([
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', nominated: true, state: 'succeeded' },
      { id: 'L1', type: 'local-candidate', candidateType: 'prflx' },
    ]);
    expect(extractCallStats(r, 'completed')).toEqual({ iceState: 'completed', candidateType: 'prflx' });
  });
  it('returns null without a selected pair', () => {
    expect(extractCallStats(report([{ id: 'L1', type: 'local-candidate', candidateType: 'host' }]), 'checking')).toBeNull();
  });
});

describe('toRtcIceServers', () => {
  it('drops null/absent username and credential', () => {
    expect(
      toRtcIceServers([
        { urls: ['stun:stun.example:3478'], username: null, credential: null },
        { urls: ['turn:turn.example:3478?transport=udp'], username: 'u', credential: 'c' },
      ]),
    ).toEqual([{ urls: ['stun:stun.example:3478'] }, { urls: ['turn:turn.example:3478?transport=udp'], username: 'u', credential: 'c' }]);
  });
});

describe('callStatsWithMedia', () => {
  const pairOf = (extra: Record<string, any>[]) =>
    report([
      { id: 'T1', type: 'transport', selectedCandidatePairId: 'P1' },
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', currentRoundTripTime: 0.05 },
      { id: 'L1', type: 'local-candidate', candidateType: 'host' },
      ...extra,
    ]);
  const inbound = (id: string, packetsReceived: number, packetsLost: number, bytesReceived: number) => ({
    id,
    type: 'inbound-rtp',
    packetsReceived,
    packetsLost,
    bytesReceived,
  });

  it('sends no loss or bitrate on the first report (no previous counters)', () => {
    const { stats, sample } = callStatsWithMedia(pairOf([inbound('A', 500, 3, 40_000)]), 'connected', 1_000, null);
    expect(stats).toEqual({ iceState: 'connected', candidateType: 'host', rttMs: 50 });
    expect(sample).toMatchObject({ packetsReceived: 500, packetsLost: 3, bytesReceived: 40_000 });
  });

  it('computes loss % and received kbps from the deltas over the interval, audio + video summed', () => {
    const first = callStatsWithMedia(pairOf([inbound('A', 100, 0, 10_000), inbound('V', 900, 10, 990_000)]), 'connected', 10_000, null);
    // 2 s later: +50 audio +950 video received (1000), +4 +6 lost (10) → 10 / 1010 = 0.99 %;
    // +5 000 +495 000 bytes = 500 000 B * 8 / 2000 ms = 2000 kbit/s.
    const next = callStatsWithMedia(
      pairOf([inbound('A', 150, 4, 15_000), inbound('V', 1850, 16, 1_485_000)]),
      'connected',
      12_000,
      first.sample,
    );
    expect(next.stats).toEqual({ iceState: 'connected', candidateType: 'host', rttMs: 50, lossPct: 1, bitrateKbps: 2000 });
  });

  it('reports 0 % loss and 0 kbps when nothing arrived or was lost', () => {
    const first = callStatsWithMedia(pairOf([inbound('V', 10, 0, 1000)]), 'connected', 0, null);
    const next = callStatsWithMedia(pairOf([inbound('V', 10, 0, 1000)]), 'connected', 5000, first.sample);
    expect(next.stats?.bitrateKbps).toBe(0);
    expect(next.stats?.lossPct).toBeUndefined(); // no packets in the interval: loss is unknown, not 0
  });

  it('keeps the figures inside the contract bounds', () => {
    const first = callStatsWithMedia(pairOf([inbound('V', 0, 0, 0)]), 'connected', 0, null);
    const next = callStatsWithMedia(pairOf([inbound('V', 0, 50, 1e12)]), 'connected', 1000, first.sample);
    expect(next.stats?.lossPct).toBe(100);
    expect(next.stats?.bitrateKbps).toBe(100_000);
  });

  it('gives no stats without a selected pair but still keeps the counters', () => {
    const { stats, sample } = callStatsWithMedia(report([inbound('V', 7, 1, 700)]), 'checking', 0, null);
    expect(stats).toBeNull();
    expect(sample.packetsReceived).toBe(7);
  });
});

describe('PeerCall call-stats reports', () => {
  /** Just enough RTCPeerConnection for the stats path: a selected pair and growing inbound counters. */
  class StatsPC {
    static last: StatsPC | null = null;
    connectionState: RTCPeerConnectionState = 'new';
    iceConnectionState: RTCIceConnectionState = 'connected';
    signalingState: RTCSignalingState = 'stable';
    remoteDescription = null;
    onicecandidate: unknown = null;
    ontrack: unknown = null;
    onconnectionstatechange: (() => void) | null = null;
    packets = 0;
    constructor() {
      StatsPC.last = this;
    }
    addTransceiver() {}
    addTrack() {}
    close() {}
    async getStats() {
      this.packets += 100;
      return report([
        { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
        { id: 'P', type: 'candidate-pair', localCandidateId: 'L', currentRoundTripTime: 0.02 },
        { id: 'L', type: 'local-candidate', candidateType: 'relay' },
        { id: 'V', type: 'inbound-rtp', packetsReceived: this.packets, packetsLost: 0, bytesReceived: this.packets * 1000 },
      ]);
    }
  }

  it('reports at once on connect (no figures yet), again after FIRST_FIGURES_MS with loss and bitrate, then every interval', async () => {
    vi.useFakeTimers();
    try {
      const signals: Signal[] = [];
      const call = new PeerCall({
        iceServers: [],
        initiator: false,
        localStream: null,
        signal: (s) => signals.push(s),
        onRemoteStream: () => undefined,
        onState: () => undefined,
        PeerConnectionImpl: StatsPC as unknown as typeof RTCPeerConnection,
        statsIntervalMs: 30_000,
      });
      const pc = StatsPC.last!;
      pc.connectionState = 'connected';
      pc.onconnectionstatechange!();
      await vi.advanceTimersByTimeAsync(0);
      const stats = () => signals.filter((s) => s.event === 'call-stats').map((s) => s.data as CallStats);
      expect(stats()).toEqual([{ iceState: 'connected', candidateType: 'relay', rttMs: 20 }]);
      await vi.advanceTimersByTimeAsync(FIRST_FIGURES_MS);
      expect(stats()).toHaveLength(2);
      expect(stats()[1]).toMatchObject({ lossPct: 0, candidateType: 'relay' });
      expect(stats()[1]!.bitrateKbps).toBeGreaterThan(0);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(stats()).toHaveLength(3);
      call.close();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(stats()).toHaveLength(3); // nothing after close
    } finally {
      vi.useRealTimers();
    }
  });
});
