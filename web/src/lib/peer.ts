import type {
  CallStats,
  CandidatePayload,
  CandidateType,
  ClientEvents,
  IceServer,
  SessionDescriptionPayload,
} from '../protocol';
import { sampleStats, type QualitySample, type StatsReportLike } from '../strangers/quality';

export type VideoState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

type SignalEvent = 'send-offer' | 'send-answer' | 'send-candidate' | 'call-stats';
/** A frame the call wants sent to the gateway. */
export type Signal = { [E in SignalEvent]: { event: E; data: ClientEvents[E] } }[SignalEvent];

/** The server omits absent username/credential (it may send null); RTCIceServer wants them absent. */
export function toRtcIceServers(servers: readonly IceServer[]): RTCIceServer[] {
  return servers.map((s) => {
    const out: RTCIceServer = { urls: s.urls };
    if (s.username != null) out.username = s.username;
    if (s.credential != null) out.credential = s.credential;
    return out;
  });
}

export interface PeerCallOptions {
  iceServers: IceServer[];
  initiator: boolean;
  localStream: MediaStream | null;
  signal: (s: Signal) => void;
  onRemoteStream: (stream: MediaStream) => void;
  onState: (state: VideoState) => void;
  PeerConnectionImpl?: typeof RTCPeerConnection;
  statsIntervalMs?: number;
  /** How long "disconnected" may last before the initiator restarts ICE. */
  disconnectGraceMs?: number;
  maxRestarts?: number;
}

/**
 * One WebRTC call with a stranger. The initiator sends the offer (and every
 * ICE-restart offer); the other side only answers, so offers never collide.
 */
export class PeerCall {
  readonly pc: RTCPeerConnection;
  private readonly opts: PeerCallOptions;
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private chain: Promise<void> = Promise.resolve();
  private remoteStream: MediaStream | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private firstFiguresTimer: ReturnType<typeof setTimeout> | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private restarts = 0;
  private closed = false;
  private everConnected = false;
  /** The previous getStats() counters: loss and bitrate are deltas over one stats interval. */
  private lastSample: QualitySample | null = null;

  constructor(opts: PeerCallOptions) {
    this.opts = opts;
    const PC = opts.PeerConnectionImpl ?? RTCPeerConnection;
    // e2e tests may force relay-only ICE with an init script (window.__connectIceTransportPolicy = 'relay').
    const policy = (globalThis as { __connectIceTransportPolicy?: RTCIceTransportPolicy }).__connectIceTransportPolicy;
    this.pc = new PC({ iceServers: toRtcIceServers(opts.iceServers), ...(policy ? { iceTransportPolicy: policy } : {}) });
    const pc = this.pc;

    if (opts.localStream) {
      for (const track of opts.localStream.getTracks()) pc.addTrack(track, opts.localStream);
    } else if (opts.initiator) {
      // No camera/mic: still receive the stranger's media.
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }

    pc.onicecandidate = (e) => {
      if (this.closed || !e.candidate || !e.candidate.candidate) return;
      this.opts.signal({
        event: 'send-candidate',
        data: {
          candidate: {
            candidate: e.candidate.candidate,
            sdpMid: e.candidate.sdpMid,
            sdpMLineIndex: e.candidate.sdpMLineIndex,
            usernameFragment: e.candidate.usernameFragment,
          },
        },
      });
    };
    pc.ontrack = (e) => {
      if (this.closed) return;
      let stream = e.streams[0];
      if (!stream) {
        this.remoteStream ??= new MediaStream();
        this.remoteStream.addTrack(e.track);
        stream = this.remoteStream;
      }
      this.opts.onRemoteStream(stream);
    };
    pc.onconnectionstatechange = () => this.onConnectionState();
  }

  /** Kick off negotiation (the initiator sends the offer). Callbacks fire only from here on. */
  start(): void {
    this.opts.onState('connecting');
    if (this.opts.initiator) this.enqueue(() => this.makeOffer(false));
  }

  handleOffer(offer: SessionDescriptionPayload): void {
    this.enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      await this.flushCandidates();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      const sdp = this.pc.localDescription?.sdp ?? answer.sdp ?? '';
      this.opts.signal({ event: 'send-answer', data: { answer: { type: 'answer', sdp } } });
    });
  }

  handleAnswer(answer: SessionDescriptionPayload): void {
    this.enqueue(async () => {
      if (this.pc.signalingState !== 'have-local-offer') return; // stale or duplicate
      await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      await this.flushCandidates();
    });
  }

  handleCandidate(c: CandidatePayload): void {
    if (this.closed || !c || typeof c.candidate !== 'string') return;
    const init: RTCIceCandidateInit = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
    if (c.usernameFragment != null) init.usernameFragment = c.usernameFragment;
    if (!this.pc.remoteDescription) {
      this.pendingCandidates.push(init);
      return;
    }
    this.enqueue(() => this.addCandidate(init));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopStats();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.pendingCandidates = [];
    const pc = this.pc;
    pc.onicecandidate = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    try {
      pc.close();
    } catch {
      /* ignore */
    }
  }

  /** Reads getStats() and sends call-stats (when a candidate pair is selected). */
  async reportStats(): Promise<CallStats | null> {
    if (this.closed) return null;
    try {
      const report = await this.pc.getStats();
      const { stats, sample } = callStatsWithMedia(report, this.pc.iceConnectionState, Date.now(), this.lastSample);
      this.lastSample = sample;
      if (stats && !this.closed) this.opts.signal({ event: 'call-stats', data: stats });
      return stats;
    } catch {
      return null;
    }
  }

  // ----------------------------------------------------------------- private

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain
      .then(() => (this.closed ? undefined : fn()))
      .catch((err) => {
        if (!this.closed) console.warn('webrtc:', err);
      });
  }

  private async makeOffer(iceRestart: boolean): Promise<void> {
    if (this.pc.signalingState !== 'stable') return;
    const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await this.pc.setLocalDescription(offer);
    const sdp = this.pc.localDescription?.sdp ?? offer.sdp ?? '';
    this.opts.signal({ event: 'send-offer', data: { offer: { type: 'offer', sdp } } });
  }

  private async flushCandidates(): Promise<void> {
    const list = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of list) await this.addCandidate(c);
  }

  private async addCandidate(c: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc.addIceCandidate(c);
    } catch (err) {
      // A candidate from an older ICE generation is harmless.
      console.debug('addIceCandidate failed', err);
    }
  }

  private onConnectionState(): void {
    if (this.closed) return;
    const s = this.pc.connectionState;
    switch (s) {
      case 'connected':
        this.everConnected = true;
        this.restarts = 0;
        if (this.restartTimer) clearTimeout(this.restartTimer);
        this.restartTimer = null;
        this.opts.onState('connected');
        this.startStats();
        break;
      case 'disconnected':
        this.opts.onState('reconnecting');
        this.scheduleRestart(this.opts.disconnectGraceMs ?? 2000);
        break;
      case 'failed':
        this.opts.onState('failed');
        // Feed the ICE-failure metric; without a selected pair there is no candidateType
        // (the server accepts call-stats without it).
        this.quiet(
          this.reportStats().then((s) => {
            if (!s && !this.closed)
              this.opts.signal({ event: 'call-stats', data: { iceState: 'failed' } });
          }),
        );
        this.scheduleRestart(0);
        break;
      case 'connecting':
      case 'new':
        this.opts.onState(this.everConnected ? 'reconnecting' : 'connecting');
        break;
      case 'closed':
        this.opts.onState('closed');
        break;
    }
  }

  private canRestart(): boolean {
    return this.restarts < (this.opts.maxRestarts ?? 5);
  }

  private scheduleRestart(delayMs: number): void {
    if (!this.opts.initiator) return; // the other side answers the initiator's restart offer
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closed) return;
      const s = this.pc.connectionState;
      if (s !== 'disconnected' && s !== 'failed') return;
      if (!this.canRestart()) {
        this.opts.onState('failed');
        return;
      }
      this.restarts += 1;
      // The call's record notes the restart (a `restart` event; the server counts it).
      this.opts.signal({ event: 'call-stats', data: { iceState: this.pc.iceConnectionState, restart: true } });
      this.enqueue(() => this.makeOffer(true));
    }, delayMs);
  }

  private startStats(): void {
    this.quiet(this.reportStats());
    if (this.statsTimer) return;
    // Loss and bitrate need two readings: a second one soon after connecting gives
    // even a short call its media figures (the regular interval is long).
    this.firstFiguresTimer = setTimeout(() => {
      this.firstFiguresTimer = null;
      this.quiet(this.reportStats());
    }, FIRST_FIGURES_MS);
    // e2e tests may shorten the interval with an init script (window.__connectStatsIntervalMs = 2000).
    const forced = (globalThis as { __connectStatsIntervalMs?: number }).__connectStatsIntervalMs;
    this.statsTimer = setInterval(() => this.quiet(this.reportStats()), forced ?? this.opts.statsIntervalMs ?? 30_000);
  }

  private stopStats(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    if (this.firstFiguresTimer) clearTimeout(this.firstFiguresTimer);
    this.firstFiguresTimer = null;
  }

  private quiet(p: Promise<unknown>): void {
    p.catch(() => undefined);
  }
}

type StatLike = Record<string, any>;

/**
 * From a getStats() report: ICE state, the local candidate type of the
 * selected candidate pair and the current RTT.
 */
export function extractCallStats(
  report: { forEach: (cb: (s: StatLike) => void) => void; get?: (id: string) => StatLike | undefined },
  iceState: CallStats['iceState'],
): CallStats | null {
  const byId = new Map<string, StatLike>();
  report.forEach((s) => byId.set(s.id, s));
  let pair: StatLike | undefined;
  for (const s of byId.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pair = byId.get(s.selectedCandidatePairId);
      if (pair) break;
    }
  }
  if (!pair) {
    for (const s of byId.values()) {
      if (s.type === 'candidate-pair' && (s.selected === true || (s.nominated && s.state === 'succeeded'))) {
        pair = s;
        break;
      }
    }
  }
  if (!pair) return null;
  const local = byId.get(pair.localCandidateId);
  const raw = String(local?.candidateType ?? '');
  let candidateType: CandidateType;
  if (raw === 'host' || raw === 'srflx' || raw === 'prflx' || raw === 'relay') candidateType = raw;
  else return null;
  const stats: CallStats = { iceState, candidateType };
  if (typeof pair.currentRoundTripTime === 'number') stats.rttMs = Math.round(pair.currentRoundTripTime * 1000);
  return stats;
}

/** After connecting: the report that carries the call's first loss and bitrate figures. */
export const FIRST_FIGURES_MS = 5000;

/** The contract's bounds for the media figures of call-stats (signaling/schemas.py). */
const MAX_BITRATE_KBPS = 100_000;

/**
 * call-stats with the media figures: `lossPct` (inbound packets lost of the
 * last interval) and `bitrateKbps` (inbound, all tracks), both deltas of the
 * cumulative inbound-rtp counters against `prev` — the same measure as the
 * quality indicator (strangers/quality.ts). The first report of a call has no
 * previous counters and so carries neither; `sample` is kept for the next one.
 */
export function callStatsWithMedia(
  report: StatsReportLike & { get?: (id: string) => StatLike | undefined },
  iceState: CallStats['iceState'],
  nowMs: number,
  prev: QualitySample | null,
): { stats: CallStats | null; sample: QualitySample } {
  const sample = sampleStats(report, nowMs, prev);
  const stats = extractCallStats(report, iceState);
  if (stats) {
    if (sample.lossPct !== null) stats.lossPct = Math.min(100, Math.max(0, sample.lossPct));
    if (sample.kbps !== null) stats.bitrateKbps = Math.min(MAX_BITRATE_KBPS, Math.max(0, sample.kbps));
  }
  return { stats, sample };
}
