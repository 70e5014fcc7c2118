import {
  CloseCode,
  GatewayClient,
  GatewayError,
  defaultGatewayUrl,
  type ClosedInfo,
  type TokenProvider,
  type WelcomeData,
} from '../gateway/client';
import type {
  AnswerEvent,
  Banned,
  BanInfo,
  CandidateEvent,
  CaptchaRequired,
  ChatMode,
  ErrorEvent,
  JoinQueue,
  Matched,
  MessageEvent,
  NextIn,
  OfferEvent,
  PeerEnded,
  PeerEndedReason,
  RateLimited,
  ReportReason,
  TypingEvent,
  Warning,
} from '../protocol';
import { ApiError, GuestTokens, getDeviceId, postAppeal, postReport, type ReportResult } from './api';
import { encodeAltchaPayload, isAltchaChallenge, solveAltcha, type AltchaChallenge, type CaptchaSolver } from './captcha';
import { PeerCall, type VideoState } from './peer';
import { publishStrangers } from './debug';
import { t } from '../i18n';

export type Phase = 'idle' | 'connecting' | 'queued' | 'matched' | 'ended' | 'offline';
export type Screen = 'start' | 'chat' | 'banned';

export interface ChatLine {
  id: number;
  who: 'you' | 'stranger' | 'system';
  text: string;
}

export interface ChatState {
  screen: Screen;
  mode: ChatMode;
  phase: Phase;
  endReason: PeerEndedReason | 'lost' | null;
  offlineReason: string | null;
  peerReconnecting: boolean;
  selfReconnecting: boolean;
  videoState: VideoState | null;
  sessionId: string | null;
  /** Session that can still be reported (current or the one that just ended). */
  reportableSessionId: string | null;
  commonInterests: string[];
  lines: ChatLine[];
  strangerTyping: boolean;
  notice: string | null;
  mediaError: string | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  ban: BanInfo | null;
  appeal: AppealState;
  captcha: CaptchaState | null;
  /** A moderator's warning (dismissible banner). */
  warning: string | null;
}

/** The appeal form on the ban screen. */
export interface AppealState {
  status: 'idle' | 'sending' | 'done' | 'already' | 'error';
  error: string | null;
}

/** The CAPTCHA panel (null: hidden). */
export interface CaptchaState {
  /** waiting: told to verify, challenge not here yet; solving: proof-of-work running; verifying: solution sent. */
  status: 'waiting' | 'solving' | 'verifying' | 'error';
  error: string | null;
}

export interface StartOptions {
  mode: ChatMode;
  interests: string[];
  language?: string;
}

const MAX_LINES = 500;
export const MAX_MESSAGE_CHARS = 1000;
const TYPING_IDLE_MS = 3000;
const TYPING_RESEND_MS = 4000;
const STRANGER_TYPING_TIMEOUT_MS = 8000;

export function initialState(): ChatState {
  return {
    screen: 'start',
    mode: 'video',
    phase: 'idle',
    endReason: null,
    offlineReason: null,
    peerReconnecting: false,
    selfReconnecting: false,
    videoState: null,
    sessionId: null,
    reportableSessionId: null,
    commonInterests: [],
    lines: [],
    strangerTyping: false,
    notice: null,
    mediaError: null,
    localStream: null,
    remoteStream: null,
    micOn: true,
    camOn: true,
    ban: null,
    appeal: { status: 'idle', error: null },
    captcha: null,
    warning: null,
  };
}

const END_TEXT: Record<PeerEndedReason | 'lost', string> = {
  skipped: 'Stranger skipped you',
  ended: 'Stranger left',
  disconnected: 'Stranger disconnected',
  banned: 'Stranger was banned',
  lost: 'Connection lost — the chat ended',
};

const VIDEO_TEXT: Record<VideoState, string> = {
  connecting: 'Video connecting…',
  connected: 'Video connected',
  reconnecting: 'Video reconnecting…',
  failed: 'Video failed',
  closed: 'Video closed',
};

/** The words shown in data-testid="status". */
export function statusText(s: ChatState): string {
  if (s.captcha && (s.phase === 'connecting' || s.phase === 'queued')) return 'Verifying you are human…';
  switch (s.phase) {
    case 'idle':
      return 'Ready';
    case 'connecting':
      return s.selfReconnecting ? 'Reconnecting…' : 'Connecting…';
    case 'queued':
      return s.selfReconnecting ? 'Reconnecting…' : 'Looking for a stranger…';
    case 'matched': {
      if (s.peerReconnecting) return 'Stranger is reconnecting…';
      const base = s.selfReconnecting ? 'Connected to a stranger · Reconnecting…' : 'Connected to a stranger';
      if (s.mode === 'video' && s.videoState) return `${base} · ${VIDEO_TEXT[s.videoState]}`;
      return base;
    }
    case 'ended':
      return END_TEXT[s.endReason ?? 'ended'];
    case 'offline':
      return s.offlineReason ?? 'Disconnected';
  }
}

export interface ControllerDeps {
  /** A client, or a factory given the controller's token provider (which notices a 403 `banned`). */
  gateway?: GatewayClient | ((getToken: TokenProvider) => GatewayClient);
  tokens?: GuestTokens;
  /** Solves ALTCHA challenges (default: the altcha package's solver). */
  solveCaptcha?: CaptchaSolver;
  /** fetch for REST calls made by the controller (appeals). */
  fetch?: typeof fetch;
  getUserMedia?: (c: MediaStreamConstraints) => Promise<MediaStream>;
  PeerConnectionImpl?: typeof RTCPeerConnection;
}

/** All visitor-app logic outside React: gateway events, WebRTC, chat, typing. */
export class ChatController {
  private state: ChatState = initialState();
  private listeners = new Set<() => void>();
  readonly tokens: GuestTokens;
  readonly gateway: GatewayClient;
  private readonly deps: ControllerDeps;
  private peer: PeerCall | null = null;
  private criteria: JoinQueue | null = null;
  private lineId = 1;
  private typingActive = false;
  private typingSentAt = 0;
  private typingIdleTimer: ReturnType<typeof setTimeout> | null = null;
  private strangerTypingTimer: ReturnType<typeof setTimeout> | null = null;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private startSeq = 0;
  /** What to do again once the CAPTCHA is passed. */
  private captchaRetry: 'join' | 'next' | null = null;
  /** Bumped to cancel a running solve. */
  private captchaRun = 0;
  private captchaAbort: AbortController | null = null;
  private captchaChallenge: AltchaChallenge | null = null;
  /** A solution was accepted while nothing was waiting for it: the next captcha_required retries at once. */
  private captchaPassed = false;

  constructor(deps: ControllerDeps = {}) {
    this.deps = deps;
    this.tokens = deps.tokens ?? new GuestTokens(getDeviceId());
    const gw = deps.gateway;
    this.gateway =
      typeof gw === 'function'
        ? gw(this.getToken)
        : (gw ?? new GatewayClient({ url: () => defaultGatewayUrl(), getToken: this.getToken }));
    this.wire();
    this.publishDebug();
  }

  // ------------------------------------------------------------ store API

  getState = (): ChatState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    this.publishDebug();
    for (const l of [...this.listeners]) l();
  }

  private publishDebug(): void {
    publishStrangers({
      pc: this.peer?.pc ?? null,
      sessionId: this.state.sessionId,
      connectionId: this.gateway?.connectionId ?? null,
      controller: this,
    });
  }

  /** Guest token for the gateway and REST; a 403 `banned` switches to the ban screen. */
  getToken: TokenProvider = async (opts) => {
    try {
      return await this.tokens.get(opts);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'banned') {
        this.enterBan(err.ban ?? null);
        this.gateway.close(); // stop reconnecting
      }
      throw err;
    }
  };

  // ------------------------------------------------------------ actions

  async start(opts: StartOptions): Promise<void> {
    if (this.state.screen === 'banned') return;
    const seq = ++this.startSeq;
    const criteria: JoinQueue = { mode: opts.mode };
    if (opts.language) criteria.language = opts.language;
    if (opts.interests.length) criteria.interests = opts.interests;
    this.criteria = criteria;
    this.cancelCaptcha();
    this.set({
      ...initialState(),
      warning: this.state.warning,
      screen: 'chat',
      mode: opts.mode,
      phase: 'connecting',
      selfReconnecting: false,
    });

    if (opts.mode === 'video') {
      const stream = await this.getLocalMedia();
      if (seq !== this.startSeq || this.state.screen !== 'chat') {
        stream?.getTracks().forEach((t) => t.stop());
        return;
      }
      this.set({ localStream: stream, micOn: true, camOn: true });
    }

    if (this.gateway.ready) this.joinQueue();
    else this.gateway.connect(); // welcome → joinQueue()
  }

  /** Whether "Next and don't show me this person again" has someone to avoid. */
  canAvoid(): boolean {
    const { screen, phase, reportableSessionId } = this.state;
    if (screen !== 'chat' || !reportableSessionId) return false;
    return phase === 'matched' || (phase === 'ended' && this.gateway.ready);
  }

  /**
   * Skip the stranger (or, outside a session, look for a new one).
   * `avoid`: never be matched with this stranger again (`next {"avoid": true, "sessionId"}`);
   * the sessionId names the partner when the chat already ended (peer-ended).
   */
  next(opts: { avoid?: boolean } = {}): void {
    if (this.state.screen !== 'chat' || this.state.phase === 'connecting') return;
    const avoidSession = opts.avoid && this.canAvoid() ? this.state.reportableSessionId : null;
    this.teardownPeer();
    this.stopTyping(false);
    const wasOffline = this.state.phase === 'offline' || this.gateway.state === 'closed' || this.gateway.state === 'idle';
    this.set({
      phase: wasOffline ? 'connecting' : 'queued',
      sessionId: null,
      endReason: null,
      peerReconnecting: false,
      strangerTyping: false,
      videoState: null,
      remoteStream: null,
      commonInterests: [],
      offlineReason: null,
    });
    if (wasOffline) {
      if (this.gateway.ready) this.joinQueue();
      else this.gateway.connect();
      return;
    }
    this.sendNext(avoidSession);
  }

  /** End the chat and return to the start screen. */
  end(): void {
    const { phase } = this.state;
    if (phase === 'matched') this.gateway.emit('end-call', {});
    else if (phase === 'queued' || phase === 'connecting') this.gateway.emit('leave-queue', {});
    this.startSeq++;
    this.cancelCaptcha();
    this.teardownPeer();
    this.stopTyping(false);
    this.stopLocalMedia();
    this.set({ ...initialState(), mode: this.state.mode, warning: this.state.warning });
  }

  sendMessage(raw: string): boolean {
    const text = raw.trim().slice(0, MAX_MESSAGE_CHARS);
    if (!text || this.state.phase !== 'matched') return false;
    this.gateway.request('send-message', { text }).catch((e) => this.requestFailed(e));
    this.addLine('you', text);
    this.stopTyping(true);
    return true;
  }

  /** Call on every change of the chat input. */
  inputChanged(text: string): void {
    if (this.state.phase !== 'matched') return;
    if (!text.trim()) {
      this.stopTyping(true);
      return;
    }
    const now = Date.now();
    if (!this.typingActive || now - this.typingSentAt > TYPING_RESEND_MS) {
      this.typingActive = true;
      this.typingSentAt = now;
      this.gateway.emit('typing', { active: true });
    }
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => this.stopTyping(true), TYPING_IDLE_MS);
  }

  toggleMic(): void {
    const s = this.state.localStream;
    if (!s) return;
    const on = !this.state.micOn;
    s.getAudioTracks().forEach((t) => (t.enabled = on));
    this.set({ micOn: on });
  }

  toggleCamera(): void {
    const s = this.state.localStream;
    if (!s) return;
    const on = !this.state.camOn;
    s.getVideoTracks().forEach((t) => (t.enabled = on));
    this.set({ camOn: on });
  }

  /** `evidence`: a JPEG data: URL of the remote video (lib/evidence.ts), video mode only. */
  /** `avoid` (default true): also "don't match me with this person again". */
  async report(reason: ReportReason, comment: string, evidence?: string | null, avoid = true): Promise<ReportResult> {
    const sessionId = this.state.reportableSessionId;
    if (!sessionId) throw new Error('There is no chat to report yet.');
    const token = await this.getToken();
    return postReport(token, { sessionId, reason, comment, evidence: evidence ?? null, avoid }, this.deps.fetch);
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  dismissWarning(): void {
    this.set({ warning: null });
  }

  /** Ban screen: POST /api/appeals with the ban's appeal token. */
  async submitAppeal(raw: string): Promise<void> {
    const text = raw.trim();
    const token = this.state.ban?.appeal?.token;
    if (this.state.appeal.status === 'sending' || this.state.appeal.status === 'done') return;
    if (!token) return this.set({ appeal: { status: 'error', error: 'This ban cannot be appealed here.' } });
    if (!text) return this.set({ appeal: { status: 'error', error: 'Please explain why the ban should be lifted.' } });
    this.set({ appeal: { status: 'sending', error: null } });
    try {
      await postAppeal(token, text, this.deps.fetch);
      this.set({ appeal: { status: 'done', error: null } });
    } catch (err) {
      const e = err as ApiError;
      if (e?.code === 'already_appealed') this.set({ appeal: { status: 'already', error: 'You already appealed this ban' } });
      else this.set({ appeal: { status: 'error', error: e?.message || 'Could not send the appeal' } });
    }
  }

  /** CAPTCHA panel "Try again": repeat what needed the CAPTCHA (the server sends a new challenge). */
  retryCaptcha(): void {
    if (this.state.screen !== 'chat') return;
    const kind = this.captchaRetry ?? (this.state.phase === 'connecting' ? 'join' : 'next');
    this.cancelCaptcha();
    this.captchaRetry = kind;
    this.set({ captcha: { status: 'waiting', error: null } });
    this.runAfterCaptcha(kind);
  }

  /** Page is going away: close the socket so the server ends the session immediately. */
  shutdown(): void {
    this.teardownPeer();
    this.stopLocalMedia();
    this.gateway.close();
  }

  // ------------------------------------------------------------ internals

  private async getLocalMedia(): Promise<MediaStream | null> {
    const gum =
      this.deps.getUserMedia ??
      (navigator.mediaDevices?.getUserMedia ? (c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c) : null);
    if (!gum) {
      this.set({ mediaError: 'Camera is not available in this browser — you can still watch and chat.' });
      return null;
    }
    try {
      const stream = await gum({ video: true, audio: true });
      this.set({ mediaError: null });
      return stream;
    } catch (err) {
      const name = (err as Error)?.name;
      const msg =
        name === 'NotAllowedError'
          ? 'Camera/microphone permission was denied — you can still watch and chat.'
          : 'Could not start camera/microphone — you can still watch and chat.';
      this.set({ mediaError: msg });
      return null;
    }
  }

  private stopLocalMedia(): void {
    this.state.localStream?.getTracks().forEach((t) => t.stop());
    if (this.state.localStream) this.set({ localStream: null });
  }

  private joinQueue(): void {
    if (!this.criteria || this.state.screen !== 'chat') return;
    const seq = this.startSeq;
    this.set({ phase: 'connecting' });
    this.gateway
      .request('join-queue', { ...this.criteria })
      .then(() => {
        if (seq === this.startSeq && this.state.phase === 'connecting') this.set({ phase: 'queued' });
      })
      .catch((e: GatewayError) => {
        if (seq !== this.startSeq) return;
        if (e.code === 'disconnected' || e.code === 'closed') return; // the welcome after reconnect retries
        if (e.code === 'captcha_required') return this.captchaNeeded('join');
        if (this.state.phase === 'connecting') this.set({ phase: 'offline', offlineReason: e.message || 'Could not join the queue' });
        this.requestFailed(e);
      });
  }

  private sendNext(avoidSession: string | null = null): void {
    const seq = this.startSeq;
    const data: NextIn = avoidSession ? { avoid: true, sessionId: avoidSession } : {};
    this.gateway
      .request('next', data)
      .then(() => {
        if (avoidSession && seq === this.startSeq) this.notify(t('strangers.avoid.done'));
      })
      .catch((e: GatewayError) => {
        if (seq !== this.startSeq) return;
        if (e?.code === 'captcha_required') return this.captchaNeeded('next');
        // The chat's record is gone (or was never ours): say so; the skip itself did not happen.
        if (avoidSession && e?.code === 'not_in_session') {
          this.notify(t('strangers.avoid.failed'));
          return this.sendNext();
        }
        this.requestFailed(e);
      });
  }

  // ------------------------------------------------------------ CAPTCHA

  /** A join-queue / next ack failed with captcha_required. */
  private captchaNeeded(kind: 'join' | 'next'): void {
    if (this.state.screen !== 'chat') return;
    if (this.captchaPassed) {
      // The solution was accepted before this ack arrived: just try again.
      this.captchaPassed = false;
      this.runAfterCaptcha(kind);
      return;
    }
    this.captchaRetry = kind;
    if (!this.state.captcha) this.set({ captcha: { status: 'waiting', error: null } });
  }

  private onCaptchaRequired(c: CaptchaRequired): void {
    if (this.state.screen === 'banned') return;
    const challenge = c?.challenge;
    if (!isAltchaChallenge(challenge)) {
      this.set({ captcha: { status: 'error', error: 'Could not load the verification — please try again.' } });
      return;
    }
    this.captchaPassed = false;
    this.captchaChallenge = challenge;
    void this.solveCaptcha(challenge);
  }

  private async solveCaptcha(challenge: AltchaChallenge): Promise<void> {
    const run = ++this.captchaRun;
    this.captchaAbort?.abort();
    const abort = new AbortController();
    this.captchaAbort = abort;
    this.set({ captcha: { status: 'solving', error: null } });
    const solve = this.deps.solveCaptcha ?? solveAltcha;
    let solution = null;
    let failure: string | null = null;
    try {
      solution = await solve(challenge, abort.signal);
    } catch (err) {
      console.error('captcha solver failed', err);
      failure = 'Verification failed in this browser — please try again.';
    }
    if (run !== this.captchaRun) return;
    if (!solution) {
      this.set({ captcha: { status: 'error', error: failure ?? 'Verification took too long — please try again.' } });
      return;
    }
    this.set({ captcha: { status: 'verifying', error: null } });
    try {
      await this.gateway.request('captcha-solution', { payload: encodeAltchaPayload(challenge, solution) });
    } catch (err) {
      if (run !== this.captchaRun) return;
      const e = err as GatewayError;
      // A new captcha-required (with a fresh challenge) may already be on its way; until then show the error.
      this.set({ captcha: { status: 'error', error: e?.message || 'Verification failed — please try again.' } });
      return;
    }
    if (run !== this.captchaRun) return;
    this.captchaChallenge = null;
    this.captchaAbort = null;
    const kind = this.captchaRetry;
    this.captchaRetry = null;
    this.set({ captcha: null });
    if (kind) this.runAfterCaptcha(kind);
    else this.captchaPassed = true;
  }

  private runAfterCaptcha(kind: 'join' | 'next'): void {
    if (this.state.screen !== 'chat') return;
    if (kind === 'join' || this.state.phase === 'connecting') {
      if (this.gateway.ready) this.joinQueue();
      else this.gateway.connect();
    } else if (this.state.phase === 'queued') {
      this.sendNext();
    }
  }

  private cancelCaptcha(): void {
    this.captchaRun++;
    this.captchaAbort?.abort();
    this.captchaAbort = null;
    this.captchaRetry = null;
    this.captchaChallenge = null;
    this.captchaPassed = false;
    if (this.state.captcha) this.set({ captcha: null });
  }

  /** Current challenge (for debugging). */
  get pendingCaptcha(): AltchaChallenge | null {
    return this.captchaChallenge;
  }

  private enterBan(ban: BanInfo | null): void {
    this.startSeq++;
    this.cancelCaptcha();
    this.teardownPeer();
    this.stopTyping(false);
    this.stopLocalMedia();
    const b: BanInfo = ban && typeof ban === 'object' ? ban : { until: null, reason: '', appeal: null };
    this.set({
      screen: 'banned',
      ban: b,
      appeal: { status: 'idle', error: null },
      phase: 'offline',
      sessionId: null,
      remoteStream: null,
      videoState: null,
      peerReconnecting: false,
      selfReconnecting: false,
    });
  }

  private requestFailed(e: unknown): void {
    const err = e as GatewayError;
    if (!err || err.code === 'disconnected' || err.code === 'closed') return;
    if (err.code === 'timeout') return this.notify('The server did not answer — please try again.');
    if (err.retryAfterMs) return this.notify(`${err.message} (try again in ${Math.ceil(err.retryAfterMs / 1000)} s)`);
    this.notify(err.message || 'Something went wrong');
  }

  private notify(text: string, ms = 5000): void {
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.set({ notice: text });
    this.noticeTimer = setTimeout(() => this.set({ notice: null }), ms);
  }

  private addLine(who: ChatLine['who'], text: string): void {
    const lines = [...this.state.lines, { id: this.lineId++, who, text }];
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    this.set({ lines });
  }

  private stopTyping(send: boolean): void {
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = null;
    if (this.typingActive && send && this.state.phase === 'matched') this.gateway.emit('typing', { active: false });
    this.typingActive = false;
  }

  private teardownPeer(): void {
    if (this.peer) {
      this.peer.close();
      this.peer = null;
      this.publishDebug();
    }
    if (this.strangerTypingTimer) clearTimeout(this.strangerTypingTimer);
    this.strangerTypingTimer = null;
  }

  private wire(): void {
    const g = this.gateway;
    g.on('welcome', (w: WelcomeData) => this.onWelcome(w));
    g.on('reconnecting', () => {
      if (this.state.screen === 'chat') this.set({ selfReconnecting: true });
    });
    g.on('closed', (c: ClosedInfo) => this.onClosed(c));
    g.on('queued', () => {
      if (this.state.screen !== 'chat') return;
      if (this.state.phase === 'connecting' || this.state.phase === 'queued' || this.state.phase === 'ended') this.set({ phase: 'queued' });
    });
    g.on('matched', (m: Matched) => this.onMatched(m));
    g.on('offer', (e: OfferEvent) => e?.offer && this.peer?.handleOffer(e.offer));
    g.on('answer', (e: AnswerEvent) => e?.answer && this.peer?.handleAnswer(e.answer));
    g.on('candidate', (e: CandidateEvent) => e?.candidate && this.peer?.handleCandidate(e.candidate));
    g.on('message', (m: MessageEvent) => {
      if (this.state.phase !== 'matched' || typeof m?.text !== 'string') return;
      this.addLine('stranger', m.text);
      this.set({ strangerTyping: false });
    });
    g.on('typing', (t: TypingEvent) => {
      if (this.state.phase !== 'matched') return;
      if (this.strangerTypingTimer) clearTimeout(this.strangerTypingTimer);
      this.strangerTypingTimer = null;
      if (t?.active) this.strangerTypingTimer = setTimeout(() => this.set({ strangerTyping: false }), STRANGER_TYPING_TIMEOUT_MS);
      this.set({ strangerTyping: Boolean(t?.active) });
    });
    g.on('peer-ended', (p: PeerEnded) => this.onPeerEnded(p?.reason ?? 'ended'));
    g.on('peer-reconnecting', () => {
      if (this.state.phase === 'matched') this.set({ peerReconnecting: true });
    });
    g.on('peer-reconnected', () => {
      if (this.state.phase === 'matched') this.set({ peerReconnecting: false });
    });
    g.on('rate-limited', (r: RateLimited) => {
      const secs = Math.max(1, Math.ceil((r?.retryAfterMs ?? 1000) / 1000));
      this.notify(`Slow down — try again in ${secs} s.`);
    });
    g.on('error', (e: ErrorEvent) => this.notify(e?.message || 'Something went wrong'));
    g.on('captcha-required', (c: CaptchaRequired) => this.onCaptchaRequired(c));
    g.on('warning', (w: Warning) => {
      const text = typeof w?.message === 'string' && w.message.trim() ? w.message : 'A moderator has warned you about your behaviour.';
      this.set({ warning: text });
    });
    g.on('banned', (b: Banned) => this.enterBan(b));
  }

  private onWelcome(w: WelcomeData): void {
    const wasReconnecting = this.state.selfReconnecting;
    if (wasReconnecting) this.set({ selfReconnecting: false });
    if (this.state.screen !== 'chat') return;
    if (w.resumed) return; // the server gave our place back
    const { phase } = this.state;
    if (phase === 'connecting' || phase === 'queued') {
      this.joinQueue();
    } else if (phase === 'matched') {
      // Our place was lost (grace period over): the session is gone.
      this.teardownPeer();
      this.set({
        phase: 'ended',
        endReason: 'lost',
        sessionId: null,
        peerReconnecting: false,
        strangerTyping: false,
        videoState: null,
        remoteStream: null,
      });
    }
  }

  private onClosed(c: ClosedInfo): void {
    if (c.willReconnect || this.state.screen === 'banned') return;
    if (c.code === CloseCode.BANNED) return this.enterBan(null); // closed 4003 without a `banned` event first
    if (c.code === CloseCode.NORMAL && this.gateway.state === 'closed' && c.reason === 'client closed') return;
    if (this.state.screen !== 'chat') return;
    let reason = 'Disconnected from the server';
    if (c.code === CloseCode.REPLACED) reason = 'Connect was opened in another tab or window';
    else if (c.code === CloseCode.UNAUTHORIZED) reason = 'Could not sign in — please reload the page';
    this.teardownPeer();
    this.set({
      phase: 'offline',
      offlineReason: reason,
      selfReconnecting: false,
      sessionId: null,
      peerReconnecting: false,
      videoState: null,
      remoteStream: null,
    });
  }

  private onMatched(m: Matched): void {
    if (!m || typeof m.sessionId !== 'string') return;
    if (this.state.screen !== 'chat') {
      // Matched right as we left: hang up.
      this.gateway.emit('end-call', {});
      return;
    }
    this.teardownPeer();
    this.stopTyping(false);
    this.lineId = 1;
    const mode: ChatMode = m.mode === 'text' || m.mode === 'video' ? m.mode : this.state.mode;
    const common = Array.isArray(m.commonInterests) ? m.commonInterests.filter((x) => typeof x === 'string') : [];
    this.set({
      phase: 'matched',
      mode,
      sessionId: m.sessionId,
      reportableSessionId: m.sessionId,
      endReason: null,
      peerReconnecting: false,
      strangerTyping: false,
      commonInterests: common,
      remoteStream: null,
      videoState: mode === 'video' ? 'connecting' : null,
      lines: [
        {
          id: this.lineId++,
          who: 'system',
          text: common.length
            ? `You're now chatting with a random stranger. You both like: ${common.join(', ')}.`
            : "You're now chatting with a random stranger. Say hi!",
        },
      ],
    });
    if (mode !== 'video') return;

    try {
      const sessionId = m.sessionId;
      const peer = new PeerCall({
        iceServers: Array.isArray(m.iceServers) ? m.iceServers : [],
        initiator: Boolean(m.initiator),
        localStream: this.state.localStream,
        PeerConnectionImpl: this.deps.PeerConnectionImpl,
        signal: (s) => {
          if (this.peer === peer) this.gateway.emit(s.event, s.data);
        },
        onRemoteStream: (stream) => {
          if (this.peer === peer && this.state.sessionId === sessionId) this.set({ remoteStream: stream });
        },
        onState: (v) => {
          if (this.peer === peer || this.peer === null) {
            if (this.state.sessionId === sessionId) this.set({ videoState: v });
          }
        },
      });
      this.peer = peer;
      this.publishDebug();
      peer.start();
    } catch (err) {
      console.error('could not create RTCPeerConnection', err);
      this.set({ videoState: 'failed' });
    }
  }

  private onPeerEnded(reason: PeerEndedReason): void {
    if (this.state.phase !== 'matched') return;
    this.teardownPeer();
    this.stopTyping(false);
    const known: PeerEndedReason[] = ['ended', 'skipped', 'disconnected', 'banned'];
    const r = known.includes(reason) ? reason : 'ended';
    this.set({
      phase: 'ended',
      endReason: r,
      sessionId: null,
      peerReconnecting: false,
      strangerTyping: false,
      videoState: null,
      remoteStream: null,
    });
    this.addLine('system', END_TEXT[r] + '.');
  }
}
