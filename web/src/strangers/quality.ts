/**
 * Connection quality from WebRTC getStats(): round-trip time, packet loss and
 * received bitrate, classified good / fair / poor. Pure functions so the
 * thresholds are unit-tested; the controller samples every couple of seconds.
 */

export type Quality = 'good' | 'fair' | 'poor';

/** One measurement: cumulative counters (for the next delta) and the derived figures. */
export interface QualitySample {
  atMs: number;
  /** Round trip of the selected candidate pair (null: not known yet). */
  rttMs: number | null;
  /** Inbound packets lost / (received + lost) since the previous sample, in percent. */
  lossPct: number | null;
  /** Inbound bitrate (audio + video) since the previous sample. */
  kbps: number | null;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
}

/** Thresholds: any one figure in a worse band decides (the worst wins). */
export const QUALITY_LIMITS = {
  rttMs: { fair: 250, poor: 500 },
  lossPct: { fair: 2, poor: 8 },
  // Below this inbound bitrate video is visibly degraded (only judged when video is expected).
  kbps: { fair: 300, poor: 100 },
} as const;

export function classifyQuality(s: Pick<QualitySample, 'rttMs' | 'lossPct' | 'kbps'>, expectVideo = true): Quality | null {
  if (s.rttMs == null && s.lossPct == null && s.kbps == null) return null;
  let level = 0;
  const worse = (v: number | null, fair: number, poor: number, higherIsWorse: boolean) => {
    if (v == null) return;
    const bad = higherIsWorse ? v >= poor : v <= poor;
    const meh = higherIsWorse ? v >= fair : v <= fair;
    level = Math.max(level, bad ? 2 : meh ? 1 : 0);
  };
  worse(s.rttMs, QUALITY_LIMITS.rttMs.fair, QUALITY_LIMITS.rttMs.poor, true);
  worse(s.lossPct, QUALITY_LIMITS.lossPct.fair, QUALITY_LIMITS.lossPct.poor, true);
  if (expectVideo) worse(s.kbps, QUALITY_LIMITS.kbps.fair, QUALITY_LIMITS.kbps.poor, false);
  return (['good', 'fair', 'poor'] as const)[level]!;
}

type StatLike = Record<string, any>;
export interface StatsReportLike {
  forEach: (cb: (s: StatLike) => void) => void;
}

/** Reads a getStats() report into a sample; deltas are taken against `prev` (same call). */
export function sampleStats(report: StatsReportLike, nowMs: number, prev: QualitySample | null): QualitySample {
  const byId = new Map<string, StatLike>();
  report.forEach((s) => byId.set(s.id, s));
  let rtt: number | null = null;
  let pair: StatLike | undefined;
  for (const s of byId.values())
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId) ?? pair;
  if (!pair)
    for (const s of byId.values())
      if (s.type === 'candidate-pair' && (s.selected === true || (s.nominated && s.state === 'succeeded'))) pair = s;
  if (pair && typeof pair.currentRoundTripTime === 'number') rtt = Math.round(pair.currentRoundTripTime * 1000);

  let received = 0;
  let lost = 0;
  let bytes = 0;
  for (const s of byId.values()) {
    if (s.type !== 'inbound-rtp') continue;
    received += Number(s.packetsReceived) || 0;
    lost += Math.max(0, Number(s.packetsLost) || 0);
    bytes += Number(s.bytesReceived) || 0;
  }
  let lossPct: number | null = null;
  let kbps: number | null = null;
  if (prev && nowMs > prev.atMs) {
    const dr = received - prev.packetsReceived;
    const dl = lost - prev.packetsLost;
    if (dr + dl > 0) lossPct = Math.round((Math.max(0, dl) / (dr + Math.max(0, dl))) * 1000) / 10;
    const db = bytes - prev.bytesReceived;
    if (db >= 0) kbps = Math.round((db * 8) / (nowMs - prev.atMs));
  }
  return { atMs: nowMs, rttMs: rtt, lossPct, kbps, packetsReceived: received, packetsLost: lost, bytesReceived: bytes };
}
