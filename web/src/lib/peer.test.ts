import { describe, expect, it } from 'vitest';
import { extractCallStats, toRtcIceServers } from './peer';

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
