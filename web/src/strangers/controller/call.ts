/**
 * The video call of one strangers session: the PeerCall (WebRTC), the quality
 * indicator sampled from getStats every 2 s, our microphone/camera state sent
 * to the partner (`media-state`) and theirs received, and emoji reactions both
 * ways (`send-reaction` → partner's `reaction`).
 */
import type { GatewayClient } from '../../gateway/client';
import type { Matched } from '../../protocol';
import { PeerCall } from '../../lib/peer';
import { classifyQuality, sampleStats } from '../quality';
import { MAX_SHOWN_REACTIONS, REACTION_SHOW_MS, reactionFor } from '../reactions';
import type { Host } from './host';
import type { PartnerMedia } from './state';

const QUALITY_INTERVAL_MS = 2000;

export interface MediaStateOut {
  audio: boolean;
  video: boolean;
  camera: 'ok' | 'none' | 'denied';
}

export class CallPart {
  private peer: PeerCall | null = null;
  private qualityTimer: ReturnType<typeof setInterval> | null = null;
  private reactionId = 1;
  private reactionTimers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly host: Host & { publishDebug(): void },
    private readonly opts: {
      PeerConnectionImpl?: typeof RTCPeerConnection;
      now: () => number;
      onError: (e: unknown) => void;
      /** Automatic frame moderation: sampled while the call lives (../framecheck/part.ts). */
      frames?: { start(m: Matched): void; stop(): void };
    },
  ) {}

  /** The live call (null outside a video session). */
  get current(): PeerCall | null {
    return this.peer;
  }

  get pc(): RTCPeerConnection | null {
    return this.peer?.pc ?? null;
  }

  wire(g: GatewayClient): void {
    g.on('offer', (e) => e?.offer && this.peer?.handleOffer(e.offer));
    g.on('answer', (e) => e?.answer && this.peer?.handleAnswer(e.answer));
    g.on('candidate', (e) => e?.candidate && this.peer?.handleCandidate(e.candidate));
    g.on('media-state', (m: { audio?: unknown; video?: unknown; camera?: unknown }) => this.onPartnerMedia(m));
    g.on('reaction', (r: { emoji?: unknown }) => {
      if (this.host.state().phase !== 'matched') return;
      const def = reactionFor(r?.emoji);
      if (def) this.show(def.emoji, 'stranger');
    });
  }

  start(m: Matched, localStream: MediaStream | null, media: MediaStateOut): void {
    try {
      const sessionId = m.sessionId;
      const peer = new PeerCall({
        iceServers: Array.isArray(m.iceServers) ? m.iceServers : [],
        initiator: Boolean(m.initiator),
        localStream,
        PeerConnectionImpl: this.opts.PeerConnectionImpl,
        signal: (s) => {
          if (this.peer === peer) this.host.gateway.emit(s.event, s.data);
        },
        onRemoteStream: (stream) => {
          if (this.peer === peer && this.host.state().sessionId === sessionId) this.host.set({ remoteStream: stream });
        },
        onState: (v) => {
          if ((this.peer === peer || this.peer === null) && this.host.state().sessionId === sessionId) {
            this.host.set({ videoState: v });
            if (v === 'connected') this.startQuality(peer);
          }
        },
      });
      this.peer = peer;
      this.host.publishDebug();
      peer.start();
    } catch (err) {
      console.error('could not create RTCPeerConnection', err);
      this.host.set({ videoState: 'failed' });
    }
    this.sendMediaState(media);
    this.opts.frames?.start(m);
  }

  /** Tell the partner our microphone/camera state (after matched and on every change). */
  sendMediaState(media: MediaStateOut): void {
    const s = this.host.state();
    if (s.phase !== 'matched' || s.mode !== 'video') return;
    this.host.gateway.request('media-state', { ...media }).catch(() => undefined);
  }

  sendReaction(emoji: string): void {
    const def = reactionFor(emoji);
    if (!def || this.host.state().phase !== 'matched') return;
    this.host.gateway.request('send-reaction', { emoji: def.emoji }).then(
      () => this.show(def.emoji, 'you'),
      (e) => this.opts.onError(e),
    );
  }

  teardown(): void {
    this.opts.frames?.stop();
    this.stopQuality();
    for (const tm of this.reactionTimers) clearTimeout(tm);
    this.reactionTimers.clear();
    if (this.peer) {
      this.peer.close();
      this.peer = null;
      this.host.publishDebug();
    }
  }

  private onPartnerMedia(m: { audio?: unknown; video?: unknown; camera?: unknown }): void {
    if (this.host.state().phase !== 'matched' || !m || typeof m !== 'object') return;
    const camera: PartnerMedia['camera'] = m.camera === 'ok' || m.camera === 'none' || m.camera === 'denied' ? m.camera : null;
    this.host.set({ partnerMedia: { audio: m.audio !== false, video: m.video !== false, camera } });
  }

  private show(emoji: string, from: 'you' | 'stranger'): void {
    const id = this.reactionId++;
    const list = [...this.host.state().reactions, { id, emoji, from }].slice(-MAX_SHOWN_REACTIONS);
    this.host.set({ reactions: list });
    const tm = setTimeout(() => {
      this.reactionTimers.delete(tm);
      this.host.set({ reactions: this.host.state().reactions.filter((r) => r.id !== id) });
    }, REACTION_SHOW_MS);
    this.reactionTimers.add(tm);
  }

  private startQuality(peer: PeerCall): void {
    if (this.qualityTimer) return;
    const tick = async () => {
      if (this.peer !== peer) return this.stopQuality();
      try {
        const report = await peer.pc.getStats();
        if (this.peer !== peer) return;
        const prev = this.host.state().qualitySample;
        const sample = sampleStats(report, this.opts.now(), prev);
        const expectVideo = this.host.state().partnerMedia?.video !== false;
        const quality = prev ? classifyQuality(sample, expectVideo) : null;
        this.host.set({ qualitySample: sample, quality: quality ?? this.host.state().quality });
      } catch {
        /* closed meanwhile */
      }
    };
    void tick();
    this.qualityTimer = setInterval(() => void tick(), QUALITY_INTERVAL_MS);
  }

  private stopQuality(): void {
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    this.qualityTimer = null;
  }
}
