/**
 * Controller part 5 of 6 — direct calls: place / answer / decline / hang up,
 * the WebRTC peer, the ringtone and call notifications, the timer and the
 * quality indicator. The media changes during a call (screen sharing, the
 * audio→video upgrade, switching devices) are part 6, callMedia.ts.
 */
import type { GatewayClient } from '../gateway/client';
import type {
  AnswerEvent,
  CallAcceptedOut,
  CallEndedOut,
  CallMissedOut,
  CallRejectedOut,
  CandidateEvent,
  CandidatePayload,
  IncomingCallOut,
  OfferEvent,
  SessionDescriptionPayload,
  UserOut,
} from '../protocol';
import type { ApiError } from '../lib/api';
import { callReducer, isCallActive, type CallEvent, type CallMedia, type CallState } from '../lib/callState';
import { PeerCall } from '../lib/peer';
import { t } from '../i18n';
import { enc, errText, stopStream, type ContactsState } from './model';
import { shouldNotify } from './notify';
import { ContactsSync } from './sync';
import { classifyQuality, sampleStats } from '../strangers/quality';
import { loadDeviceChoice, mediaConstraints } from '../media/devices';

const QUALITY_EVERY_MS = 2000;

type Signal =
  | { kind: 'offer'; sdp: SessionDescriptionPayload }
  | { kind: 'answer'; sdp: SessionDescriptionPayload }
  | { kind: 'candidate'; c: CandidatePayload };

export abstract class ContactsCalls extends ContactsSync {
  private pendingSignals: Signal[] = [];
  /** Call events that arrived while our POST /api/calls was still in flight. */
  private earlyCallEvents: CallEvent[] = [];
  /** Calls this device hung up / cancelled (a late call-accepted is hung up). */
  private endedHere = new Set<string>();
  /** The camera track put aside while the screen is shared. */
  protected cameraTrack: MediaStreamTrack | null = null;
  protected screenTrack: MediaStreamTrack | null = null;
  private qualityTimer: ReturnType<typeof setInterval> | null = null;

  protected resetLocal(): void {
    super.resetLocal();
    this.earlyCallEvents = [];
  }

  protected bindCalls(g: GatewayClient): void {
    const off = this.gatewayOff;
    off.push(g.on('incoming-call', (c: IncomingCallOut) => this.onIncomingCall(c)));
    off.push(g.on('call-accepted', (a: CallAcceptedOut) => this.callEventById(a?.callId, { type: 'accepted', data: a })));
    off.push(g.on('call-rejected', (r: CallRejectedOut) => this.callEventById(r?.callId, { type: 'rejected', callId: r?.callId })));
    off.push(g.on('call-missed', (r: CallMissedOut) => this.callEventById(r?.callId, { type: 'missed', callId: r?.callId })));
    off.push(
      g.on('call-ended', (r: CallEndedOut) =>
        this.callEventById(r?.callId, { type: 'ended', callId: r?.callId, reason: String(r?.reason ?? 'hangup') }),
      ),
    );
    off.push(g.on('offer', (e: OfferEvent) => e?.offer && this.signalIn({ kind: 'offer', sdp: e.offer })));
    off.push(g.on('answer', (e: AnswerEvent) => e?.answer && this.signalIn({ kind: 'answer', sdp: e.answer })));
    off.push(g.on('candidate', (e: CandidateEvent) => e?.candidate && this.signalIn({ kind: 'candidate', c: e.candidate })));
    off.push(g.on('peer-reconnecting', () => this.callEvent({ type: 'peer-reconnecting' })));
    off.push(g.on('peer-reconnected', () => this.callEvent({ type: 'peer-reconnected' })));
    off.push(
      g.on('peer-ended', () => {
        const c = this.state.call;
        if (c.phase === 'connecting' || c.phase === 'connected') this.callEvent({ type: 'ended', callId: c.callId!, reason: 'disconnected' });
      }),
    );
  }

  protected callsOnWelcome(resumed: boolean): void {
    const c = this.state.call;
    if (!resumed && (c.phase === 'connecting' || c.phase === 'connected')) {
      // Our connection was replaced: the server has ended the call.
      this.callEvent({ type: 'lost' });
    }
  }

  protected callsOnLost(reconnecting: boolean | null): void {
    if (reconnecting === null) this.callEvent({ type: 'lost' });
    else this.callEvent({ type: 'self-reconnecting', on: reconnecting });
  }

  // ------------------------------------------------------------ place / answer / end

  async placeCall(peer: UserOut, media: CallMedia): Promise<void> {
    if (isCallActive(this.state.call)) return;
    this.earlyCallEvents = [];
    this.callEvent({ type: 'place', peer, media });
    const stream = await this.getMedia(media);
    if (this.state.call.phase !== 'placing') {
      stopStream(stream);
      return;
    }
    this.set({ localStream: stream, micOn: true, camOn: true });
    let callId: string;
    try {
      const connectionId = await this.connectionId();
      if (this.state.call.phase !== 'placing') return;
      const r = await this.auth.json<{ callId: string }>('POST', '/api/calls', { calleeId: peer.id, media, connectionId });
      callId = r.callId;
    } catch (err) {
      const e = err as ApiError;
      const message = e?.code === 'callee_offline' ? t('messenger.calleeOffline', { name: peer.displayName }) : errText(err);
      this.callEvent({ type: 'place-failed', code: e?.code ?? 'error', message });
      if (e?.code === 'callee_offline' || e?.code === 'busy') void this.refreshHistory();
      return;
    }
    if (this.state.call.phase !== 'placing') {
      // Cancelled while the request was in flight.
      this.endedHere.add(callId);
      this.endOnServer(callId);
      return;
    }
    this.callEvent({ type: 'placed', callId });
    const early = this.earlyCallEvents;
    this.earlyCallEvents = [];
    for (const ev of early) this.callEvent(ev);
  }

  async answer(): Promise<void> {
    const c = this.state.call;
    if (c.phase !== 'incoming' || !c.callId) return;
    const callId = c.callId;
    this.callEvent({ type: 'answer' });
    const stream = await this.getMedia(c.media);
    if (this.state.call.callId !== callId || this.state.call.phase !== 'answering') {
      stopStream(stream);
      return;
    }
    this.set({ localStream: stream, micOn: true, camOn: true });
    try {
      const connectionId = await this.connectionId();
      await this.auth.json('POST', `/api/calls/${enc(callId)}/respond`, { accept: true, connectionId });
    } catch (err) {
      if (this.state.call.callId === callId) this.callEvent({ type: 'answer-failed', message: errText(err) });
    }
  }

  reject(): void {
    const c = this.state.call;
    if (c.phase !== 'incoming' || !c.callId) return;
    const callId = c.callId;
    this.callEvent({ type: 'reject' });
    this.auth
      .json('POST', `/api/calls/${enc(callId)}/respond`, { accept: false, connectionId: this.gateway?.connectionId ?? null })
      .catch(() => undefined)
      .finally(() => void this.refreshHistory());
  }

  /** Cancel (ringing), hang up (accepted) or reject (incoming). */
  hangup(): void {
    const c = this.state.call;
    if (!isCallActive(c)) return;
    if (c.phase === 'incoming') return this.reject();
    const callId = c.callId;
    this.callEvent({ type: c.phase === 'placing' || c.phase === 'outgoing' ? 'cancel' : 'hangup' });
    if (callId) {
      this.endedHere.add(callId);
      this.endOnServer(callId);
    }
  }

  dismissCall(): void {
    this.callEvent({ type: 'dismiss' });
  }

  toggleMic(): void {
    const s = this.state.localStream;
    if (!s) return;
    const on = !this.state.micOn;
    s.getAudioTracks().forEach((x) => (x.enabled = on));
    this.set({ micOn: on });
  }

  toggleCamera(): void {
    const s = this.state.localStream;
    if (!s || !s.getVideoTracks().length) return;
    const on = !this.state.camOn;
    s.getVideoTracks().forEach((x) => (x.enabled = on));
    this.set({ camOn: on });
  }

  private endOnServer(callId: string, attempt = 0): void {
    this.auth
      .json('POST', `/api/calls/${enc(callId)}/end`, { reason: 'hangup' })
      .then(() => void this.refreshHistory())
      .catch((err: ApiError) => {
        // The call changed state meanwhile (e.g. it was answered as we cancelled): try once more.
        if (err?.code === 'invalid_call_state' && attempt < 1) setTimeout(() => this.endOnServer(callId, attempt + 1), 300);
      });
  }

  private onIncomingCall(c: IncomingCallOut): void {
    if (!c || typeof c.callId !== 'string') return;
    const media: CallMedia = c.media === 'audio' ? 'audio' : 'video';
    this.callEvent({ type: 'incoming', callId: c.callId, caller: c.caller, media });
    if (this.state.call.callId !== c.callId) return;
    const notify = shouldNotify({
      kind: 'call',
      hidden: !this.visible(),
      permission: this.state.notifyPermission,
      muted: false,
      fromMe: false,
      reading: false,
    });
    if (notify) this.notifier.show(`call:${c.callId}`, t('messenger.notifyCall', { name: c.caller?.displayName ?? '' }), media === 'audio' ? t('messenger.audioCall') : t('messenger.videoCall'));
  }

  /** A server call event: stash it while our own POST /api/calls is still in flight. */
  private callEventById(callId: string | undefined, ev: CallEvent): void {
    if (typeof callId !== 'string') return;
    const c = this.state.call;
    if (ev.type !== 'accepted' || ev.data.answeredElsewhere) void this.refreshHistory();
    if (c.phase === 'placing' && c.callId === null) {
      this.earlyCallEvents.push(ev);
      return;
    }
    if (ev.type === 'accepted' && !ev.data.answeredElsewhere && this.endedHere.has(callId) && (c.callId !== callId || c.phase === 'ended')) {
      this.endOnServer(callId); // answered after we gave up
      return;
    }
    this.callEvent(ev);
  }

  private callEvent(ev: CallEvent): void {
    const prev = this.state.call;
    const next = callReducer(prev, ev);
    if (next === prev) return;
    const wasLive = isCallActive(prev);
    const patch: Partial<ContactsState> = { call: next };
    if (next.phase === 'connected' && prev.phase !== 'connected' && this.state.connectedAt === null) patch.connectedAt = Date.now();
    this.set(patch);
    // Ring while (and only while) a call is coming in.
    if (next.phase === 'incoming') this.notifier.startRing();
    else this.notifier.stopRing();
    if (prev.phase === 'incoming' && next.phase !== 'incoming' && prev.callId) this.notifier.close(`call:${prev.callId}`);
    if (next.sessionId && next.sessionId !== prev.sessionId) this.startPeer(next);
    if (next.phase === 'connected' && !this.qualityTimer) this.qualityTimer = setInterval(() => void this.measure(), QUALITY_EVERY_MS);
    if (wasLive && !isCallActive(next)) {
      this.teardownCall();
      void this.refreshHistory();
    }
  }

  private startPeer(c: CallState): void {
    this.peer?.close();
    this.peer = null;
    try {
      const sessionId = c.sessionId;
      const peer = new PeerCall({
        iceServers: c.iceServers,
        initiator: c.initiator,
        localStream: this.state.localStream,
        PeerConnectionImpl: this.deps.PeerConnectionImpl,
        signal: (s) => {
          if (this.peer === peer) this.gateway?.emit(s.event, s.data);
        },
        onRemoteStream: (stream) => {
          if (this.peer === peer) this.set({ remoteStream: stream, remoteVideo: stream.getVideoTracks().length > 0 });
        },
        onState: (v) => {
          if (this.peer === peer && this.state.call.sessionId === sessionId) this.callEvent({ type: 'media', state: v });
        },
      });
      this.peer = peer;
      this.publishDebug();
      peer.start();
      const buffered = this.pendingSignals;
      this.pendingSignals = [];
      for (const s of buffered) this.signalIn(s);
    } catch (err) {
      console.error('could not create RTCPeerConnection', err);
      this.set({ mediaError: t('messenger.rtcFailed') });
    }
  }

  private signalIn(s: Signal): void {
    const p = this.peer;
    if (!p) {
      const c = this.state.call;
      if (c.phase === 'outgoing' || c.phase === 'answering' || c.phase === 'connecting') this.pendingSignals.push(s);
      return;
    }
    if (s.kind === 'offer') p.handleOffer(s.sdp);
    else if (s.kind === 'answer') p.handleAnswer(s.sdp);
    else p.handleCandidate(s.c);
  }

  /** One quality sample (the same measure and bands as the strangers app). */
  private async measure(): Promise<void> {
    const pc = this.peer?.pc;
    if (!pc || this.state.call.phase !== 'connected') return;
    try {
      const sample = sampleStats(await pc.getStats(), Date.now(), this.state.qualitySample);
      if (this.peer?.pc !== pc) return;
      const video = this.state.remoteVideo;
      this.set({ qualitySample: sample, quality: classifyQuality(sample, video) ?? this.state.quality });
    } catch {
      /* closed meanwhile */
    }
  }

  protected teardownCall(): void {
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    this.qualityTimer = null;
    this.peer?.close();
    this.peer = null;
    this.pendingSignals = [];
    this.screenTrack?.stop();
    this.screenTrack = null;
    this.cameraTrack?.stop();
    this.cameraTrack = null;
    stopStream(this.state.localStream);
    this.notifier.stopRing();
    this.set({ localStream: null, remoteStream: null, micOn: true, camOn: true, sharing: false, connectedAt: null, remoteVideo: false, upgraded: false, quality: null, qualitySample: null });
  }

  private async getMedia(media: CallMedia): Promise<MediaStream | null> {
    const gum =
      this.deps.getUserMedia ??
      (typeof navigator !== 'undefined' && navigator.mediaDevices?.getUserMedia
        ? (c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c)
        : null);
    if (!gum) {
      this.set({ mediaError: t('messenger.noMedia') });
      return null;
    }
    try {
      const s = await gum(mediaConstraints(loadDeviceChoice(), { audio: true, video: media === 'video' }));
      this.set({ mediaError: null });
      return s;
    } catch (err) {
      const name = (err as Error)?.name;
      this.set({ mediaError: name === 'NotAllowedError' ? t('messenger.mediaDenied') : t('messenger.mediaFailed') });
      return null;
    }
  }

  /** Page is going away. */
  shutdown(): void {
    this.teardownCall();
    this.gateway?.close();
  }
}
