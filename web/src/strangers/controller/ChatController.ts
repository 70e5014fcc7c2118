/**
 * The strangers app's state machine outside React: Start → (CAPTCHA) → queued →
 * matched → ended → (auto-)requeued, plus offline/banned. Parts with their own
 * concerns live beside it: captcha.ts, chat.ts (transcript, typing), media.ts
 * (camera/mic, device switch), reporting.ts (reports, appeals), call.ts (the
 * WebRTC call, quality, media-state and reactions), waiting.ts (counts,
 * match-timeout widen, auto-requeue countdown).
 *
 * Why this file is ~500 lines: it is the one place where phases change; every
 * transition (start, next, end, matched, peer-ended, welcome, closed, banned)
 * reads and writes the same few fields, and keeping them together is what lets
 * a reader check that no path leaves a stale session on screen. Everything
 * with state of its own lives in the parts above.
 */
import { CloseCode, GatewayClient, GatewayError, defaultGatewayUrl, type ClosedInfo, type TokenProvider, type WelcomeData } from '../../gateway/client';
import type { Banned, BanInfo, ChatMode, JoinQueue, Matched, NextIn, PeerEnded, PeerEndedReason, RateLimited, ReportReason, Warning } from '../../protocol';
import { ApiError, GuestTokens, getDeviceId, type ReportResult } from '../../lib/api';
import type { CaptchaSolver } from '../../lib/captcha';
import { publishStrangers } from '../../lib/debug';
import { hasKey, t } from '../../i18n';
import type { MediaKind } from '../../media/devices';
import { narrowedBy, type WidenKind } from '../widen';
import { countryCriteria, loadPrefs, savePrefs } from '../prefs';
import { CaptchaFlow, type CaptchaRetry } from './captcha';
import { ChatPart } from './chat';
import { LocalMedia } from './media';
import { sendAppeal, sendReport } from './reporting';
import { CallPart } from './call';
import { WaitingPart } from './waiting';
import type { Host } from './host';
import { FrameCheckPart, type FrameCheckDeps } from '../framecheck/part';
import { carriedOver, endText, initialState, sessionReset, type ChatState, type EndReason, type StartOptions } from './state';

export interface ControllerDeps {
  /** A client, or a factory given the controller's token provider (which notices a 403 `banned`). */
  gateway?: GatewayClient | ((getToken: TokenProvider) => GatewayClient);
  tokens?: GuestTokens;
  /** Solves ALTCHA challenges (default: the altcha package's solver). */
  solveCaptcha?: CaptchaSolver;
  /** fetch for REST calls made by the controller (reports, appeals). */
  fetch?: typeof fetch;
  getUserMedia?: (c: MediaStreamConstraints) => Promise<MediaStream>;
  enumerateDevices?: () => Promise<MediaDeviceInfo[]>;
  PeerConnectionImpl?: typeof RTCPeerConnection;
  /** Find the next stranger automatically after the partner left (default: the remembered choice, on). */
  autoRequeue?: boolean;
  now?: () => number;
  /** Tests: frame-moderation overrides (a fake frame grabber, a seeded random). */
  frameCheck?: Partial<FrameCheckDeps>;
}

const ESC_WINDOW_MS = 1500;

export class ChatController implements Host {
  private st: ChatState = initialState();
  private listeners = new Set<() => void>();
  readonly tokens: GuestTokens;
  readonly gateway: GatewayClient;
  private readonly deps: ControllerDeps;
  private readonly captcha: CaptchaFlow;
  private readonly chat: ChatPart;
  readonly media: LocalMedia;
  private readonly call: CallPart;
  private readonly waiting: WaitingPart;
  /** Automatic frame moderation of our camera (../framecheck/part.ts). */
  readonly frames: FrameCheckPart;
  private startSeq = 0;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private escTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: ControllerDeps = {}) {
    this.deps = deps;
    this.tokens = deps.tokens ?? new GuestTokens(getDeviceId());
    const gw = deps.gateway;
    this.gateway = typeof gw === 'function' ? gw(this.getToken) : (gw ?? new GatewayClient({ url: () => defaultGatewayUrl(), getToken: this.getToken }));
    this.st = { ...this.st, autoRequeue: deps.autoRequeue ?? loadPrefs().autoRequeue };
    this.captcha = new CaptchaFlow(this, (k) => this.runAfterCaptcha(k), deps.solveCaptcha);
    this.chat = new ChatPart(this, (e) => this.requestFailed(e));
    this.waiting = new WaitingPart(this, () => this.now(), (e) => this.requestFailed(e));
    this.frames = new FrameCheckPart(this, { getToken: () => this.getToken(), fetch: deps.fetch, ...deps.frameCheck });
    this.call = new CallPart(this, { PeerConnectionImpl: deps.PeerConnectionImpl, now: () => this.now(), onError: (e) => this.requestFailed(e), frames: this.frames });
    this.media = new LocalMedia(this, deps, () => this.call.pc, () => this.call.sendMediaState(this.media.describe()));
    this.wire();
    this.publishDebug();
  }

  // ------------------------------------------------------------ store API

  getState = (): ChatState => this.st;
  state(): ChatState {
    return this.st;
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  set(patch: Partial<ChatState>): void {
    this.st = { ...this.st, ...patch };
    this.publishDebug();
    for (const l of [...this.listeners]) l();
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  publishDebug(): void {
    publishStrangers({ pc: this.call?.pc ?? null, sessionId: this.st.sessionId, connectionId: this.gateway?.connectionId ?? null, controller: this });
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
    if (this.st.screen === 'banned') return;
    const seq = ++this.startSeq;
    const criteria: JoinQueue = { mode: opts.mode };
    if (opts.language) criteria.language = opts.language;
    if (opts.interests.length) criteria.interests = opts.interests;
    if (opts.country === 'mine') criteria.country = 'mine';
    if (opts.countries?.length) criteria.countries = opts.countries;
    if (opts.hideCountry) criteria.hideCountry = true;
    this.captcha.cancel();
    this.waiting.stopRequeue();
    this.waiting.stopCounts();
    this.set({
      ...initialState(),
      ...carriedOver(this.st),
      screen: 'chat',
      mode: opts.mode,
      phase: 'connecting',
      criteria,
      narrow: narrowedBy(criteria),
    });

    if (opts.mode === 'video') {
      const stream = await this.media.open();
      if (seq !== this.startSeq || this.st.screen !== 'chat') return;
      this.set({ localStream: stream });
    } else {
      this.media.stop();
    }

    if (this.gateway.ready) this.joinQueue();
    else this.gateway.connect(); // welcome → joinQueue()
  }

  /** Remembered choices → join criteria, then start. */
  startFromPrefs(): Promise<void> {
    const p = loadPrefs();
    return this.start({
      mode: p.mode,
      interests: p.interests ? p.interests.split(',').map((s) => s.trim()).filter(Boolean) : [],
      language: p.language || undefined,
      ...countryCriteria(p),
    });
  }

  /** Whether "Next and don't show me this person again" has someone to avoid. */
  canAvoid(): boolean {
    const { screen, phase, reportableSessionId } = this.st;
    if (screen !== 'chat' || !reportableSessionId) return false;
    return phase === 'matched' || (phase === 'ended' && this.gateway.ready);
  }

  /**
   * Skip the stranger (or, outside a session, look for a new one).
   * `avoid`: never be matched with this stranger again (`next {"avoid": true, "sessionId"}`).
   * `auto`: the automatic requeue after the partner left (the transcript stays until the next match).
   */
  next(opts: { avoid?: boolean; auto?: boolean } = {}): void {
    if (this.st.screen !== 'chat' || this.st.phase === 'connecting') return;
    const avoidSession = opts.avoid && this.canAvoid() ? this.st.reportableSessionId : null;
    const lastEnd = opts.auto ? this.st.endReason : null;
    this.waiting.stopRequeue();
    this.call.teardown();
    this.chat.clearStrangerTyping();
    this.chat.stopTyping(false);
    const wasOffline = this.st.phase === 'offline' || this.gateway.state === 'closed' || this.gateway.state === 'idle';
    this.set({
      ...sessionReset(),
      phase: wasOffline ? 'connecting' : 'queued',
      offlineReason: null,
      lastEnd,
      waitingSince: this.now(),
      timeoutSuggest: null,
    });
    if (!opts.auto) this.chat.reset(null);
    if (wasOffline) {
      if (this.gateway.ready) this.joinQueue();
      else this.gateway.connect();
      return;
    }
    this.sendNext(avoidSession);
  }

  /** End the chat and return to the start screen (the camera preview stays on). */
  end(): void {
    const { phase } = this.st;
    if (phase === 'matched') this.gateway.emit('end-call', {});
    else if (phase === 'queued' || phase === 'connecting') this.gateway.emit('leave-queue', {});
    this.startSeq++;
    this.captcha.cancel();
    this.waiting.stopRequeue();
    this.call.teardown();
    this.chat.clearStrangerTyping();
    this.chat.stopTyping(false);
    if (this.st.mode !== 'video') this.media.stop();
    this.set({ ...initialState(), ...carriedOver(this.st), mode: this.st.mode });
  }

  sendMessage(raw: string): boolean {
    return this.chat.send(raw);
  }

  inputChanged(text: string): void {
    this.chat.inputChanged(text);
  }

  toggleMic(): void {
    this.media.toggleMic();
  }

  toggleCamera(): void {
    this.media.toggleCamera();
  }

  switchDevice(kind: MediaKind, deviceId: string): Promise<boolean> {
    return this.media.switchDevice(kind, deviceId);
  }

  /** Camera refused or missing: carry on as a text chat with the same criteria. */
  continueWithText(): void {
    savePrefs({ mode: 'text' });
    const c = this.st.criteria;
    if (this.st.screen === 'chat' && c) {
      this.end();
      void this.start({ ...(c as StartOptions), mode: 'text', interests: c.interests ?? [], language: c.language ?? undefined });
    } else {
      this.set({ mode: 'text', mediaError: null });
    }
  }

  sendReaction(emoji: string): void {
    this.call.sendReaction(emoji);
  }

  setAutoRequeue(on: boolean): void {
    savePrefs({ autoRequeue: on });
    if (!on) this.waiting.stopRequeue();
    this.set({ autoRequeue: on });
  }

  /** "Stay here": cancel the automatic new search after the partner left. */
  cancelRequeue(): void {
    this.waiting.stopRequeue();
  }

  /** Esc: the first arms, the second (within 1.5 s) is Next. */
  escape(): void {
    if (this.st.screen !== 'chat') return;
    if (this.escTimer) clearTimeout(this.escTimer);
    this.escTimer = null;
    if (this.st.escArmed) {
      this.set({ escArmed: false });
      this.next();
      return;
    }
    this.set({ escArmed: true });
    this.escTimer = setTimeout(() => this.set({ escArmed: false }), ESC_WINDOW_MS);
  }

  /** One-click widen after `match-timeout` (waiting.ts). */
  widen(kinds?: readonly WidenKind[]): void {
    this.waiting.widen(kinds);
  }

  async report(reason: ReportReason, comment: string, evidence?: string | null, avoid = true): Promise<ReportResult> {
    return sendReport(this, () => this.getToken(), this.deps.fetch, { reason, comment, evidence, avoid });
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  dismissWarning(): void {
    this.set({ warning: null });
  }

  submitAppeal(raw: string): Promise<void> {
    return sendAppeal(this, raw, this.deps.fetch);
  }

  retryCaptcha(): void {
    this.captcha.retryNow();
  }

  /** The live PeerCall (browser tests read it through window.__connect.controller). */
  get peer() {
    return this.call.current;
  }

  get pendingCaptcha() {
    return this.captcha.pending;
  }

  /** Start screen: online/waiting counts while the socket is open (waiting.ts). */
  watchCounts(mode: ChatMode): () => void {
    return this.waiting.watchCounts(mode);
  }

  /** Page is going away: close the socket so the server ends the session immediately. */
  shutdown(): void {
    this.call.teardown();
    this.media.stop();
    this.waiting.stopCounts();
    this.gateway.close();
  }

  // ------------------------------------------------------------ internals

  notify(text: string, ms = 5000): void {
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.set({ notice: text });
    this.noticeTimer = setTimeout(() => this.set({ notice: null }), ms);
  }

  /** A server error code as a sentence in the visitor's language. */
  private requestFailed(e: unknown): void {
    const err = e as GatewayError;
    if (!err || err.code === 'disconnected' || err.code === 'closed') return;
    if (err.code === 'timeout') return this.notify(t('errors.timeout'));
    const key = `errors.${err.code}`;
    const message = hasKey(key) ? t(key) : err.message || t('errors.generic');
    if (err.retryAfterMs) return this.notify(t('errors.retryIn', { message, seconds: Math.ceil(err.retryAfterMs / 1000) }));
    this.notify(message);
  }

  private joinQueue(): void {
    if (!this.st.criteria || this.st.screen !== 'chat') return;
    const seq = this.startSeq;
    this.set({ phase: 'connecting' });
    this.gateway
      .request('join-queue', { ...this.st.criteria })
      .then((ack) => {
        if (seq !== this.startSeq) return;
        this.waiting.onCounts({ country: (ack as { country?: unknown }).country });
        if (this.st.phase === 'connecting') this.set({ phase: 'queued', waitingSince: this.st.waitingSince ?? this.now() });
      })
      .catch((e: GatewayError) => {
        if (seq !== this.startSeq) return;
        if (e.code === 'disconnected' || e.code === 'closed') return; // the welcome after reconnect retries
        if (e.code === 'captcha_required') return this.captcha.needed('join');
        if (this.st.phase === 'connecting') this.set({ phase: 'offline', offlineReason: e.message || t('offline.join') });
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
        if (e?.code === 'captcha_required') return this.captcha.needed('next');
        // The chat's record is gone (or was never ours): say so; the skip itself did not happen.
        if (avoidSession && e?.code === 'not_in_session') {
          this.notify(t('strangers.avoid.failed'));
          return this.sendNext();
        }
        this.requestFailed(e);
      });
  }

  private runAfterCaptcha(kind: CaptchaRetry): void {
    if (this.st.screen !== 'chat') return;
    if (kind === 'join' || this.st.phase === 'connecting') {
      if (this.gateway.ready) this.joinQueue();
      else this.gateway.connect();
    } else if (this.st.phase === 'queued') {
      this.sendNext();
    }
  }

  private enterBan(ban: BanInfo | null): void {
    this.startSeq++;
    this.captcha.cancel();
    this.waiting.stopRequeue();
    this.waiting.stopCounts();
    this.call.teardown();
    this.chat.stopTyping(false);
    this.media.stop();
    const b: BanInfo = ban && typeof ban === 'object' ? ban : { until: null, reason: '', appeal: null };
    this.set({ ...sessionReset(), screen: 'banned', ban: b, appeal: { status: 'idle', error: null }, phase: 'offline', selfReconnecting: false });
  }

  private wire(): void {
    const g = this.gateway;
    g.on('welcome', (w: WelcomeData) => this.onWelcome(w));
    g.on('reconnecting', () => {
      if (this.st.screen === 'chat') this.set({ selfReconnecting: true });
    });
    g.on('closed', (c: ClosedInfo) => this.onClosed(c));
    g.on('queued', () => {
      if (this.st.screen !== 'chat') return;
      const p = this.st.phase;
      if (p === 'connecting' || p === 'queued' || p === 'ended') this.set({ phase: 'queued', waitingSince: this.st.waitingSince ?? this.now() });
    });
    g.on('queue-status', (q) => this.waiting.onQueueStatus(q));
    g.on('match-timeout', (m) => this.waiting.onMatchTimeout(m));
    g.on('matched', (m: Matched) => this.onMatched(m));
    this.call.wire(g);
    this.frames.wire(g);
    g.on('message', (m) => this.chat.onMessage(m));
    g.on('typing', (ev) => this.chat.onTyping(ev));
    g.on('peer-ended', (p: PeerEnded) => this.onPeerEnded(p?.reason ?? 'ended'));
    g.on('peer-reconnecting', () => {
      if (this.st.phase === 'matched') this.set({ peerReconnecting: true });
    });
    g.on('peer-reconnected', () => {
      if (this.st.phase === 'matched') this.set({ peerReconnecting: false });
    });
    g.on('rate-limited', (r: RateLimited) => {
      const seconds = Math.max(1, Math.ceil((r?.retryAfterMs ?? 1000) / 1000));
      this.notify(t('errors.slowDown', { seconds }));
    });
    g.on('error', (e) => this.requestFailed(e));
    g.on('captcha-required', (c) => this.captcha.required(c));
    g.on('warning', (w: Warning) => {
      const text = typeof w?.message === 'string' && w.message.trim() ? w.message : t('app.warning.default');
      this.set({ warning: text });
    });
    g.on('banned', (b: Banned) => this.enterBan(b));
  }

  private onWelcome(w: WelcomeData): void {
    if (this.st.selfReconnecting) this.set({ selfReconnecting: false });
    if (this.st.screen !== 'chat') return;
    if (w.resumed) return; // the server gave our place back
    const { phase } = this.st;
    if (phase === 'connecting' || phase === 'queued') {
      this.joinQueue();
    } else if (phase === 'matched') {
      // Our place was lost (grace period over): the session is gone.
      this.call.teardown();
      this.set({ ...sessionReset(), phase: 'ended', endReason: 'lost' });
    }
  }

  private onClosed(c: ClosedInfo): void {
    if (c.willReconnect || this.st.screen === 'banned') return;
    if (c.code === CloseCode.BANNED) return this.enterBan(null); // closed 4003 without a `banned` event first
    if (c.code === CloseCode.NORMAL && this.gateway.state === 'closed' && c.reason === 'client closed') return;
    if (this.st.screen !== 'chat') return;
    let reason = t('offline.server');
    if (c.code === CloseCode.REPLACED) reason = t('offline.replaced');
    else if (c.code === CloseCode.UNAUTHORIZED) reason = t('offline.unauthorized');
    this.call.teardown();
    this.waiting.stopRequeue();
    this.set({ ...sessionReset(), phase: 'offline', offlineReason: reason, selfReconnecting: false });
  }

  private onMatched(m: Matched): void {
    if (!m || typeof m.sessionId !== 'string') return;
    if (this.st.screen !== 'chat') {
      // Matched right as we left: hang up.
      this.gateway.emit('end-call', {});
      return;
    }
    this.waiting.stopRequeue();
    this.call.teardown();
    this.chat.clearStrangerTyping();
    this.chat.stopTyping(false);
    const mode: ChatMode = m.mode === 'text' || m.mode === 'video' ? m.mode : this.st.mode;
    const common = Array.isArray(m.commonInterests) ? m.commonInterests.filter((x) => typeof x === 'string') : [];
    const country = (m as { country?: unknown }).country;
    this.set({
      ...sessionReset(),
      phase: 'matched',
      mode,
      sessionId: m.sessionId,
      reportableSessionId: m.sessionId,
      commonInterests: common,
      partnerCountry: typeof country === 'string' && /^[A-Z]{2}$/.test(country) ? country : null,
      videoState: mode === 'video' ? 'connecting' : null,
      matchedAt: this.now(),
      lastEnd: null,
      waitingSince: null,
      timeoutSuggest: null,
    });
    this.chat.reset(common.length ? t('chat.startedCommon', { interests: common.join(', ') }) : t('chat.started'));
    if (mode === 'video') this.call.start(m, this.st.localStream, this.media.describe());
  }

  private onPeerEnded(reason: PeerEndedReason): void {
    if (this.st.phase !== 'matched') return;
    this.call.teardown();
    this.chat.clearStrangerTyping();
    this.chat.stopTyping(false);
    const known: EndReason[] = ['ended', 'skipped', 'disconnected', 'banned'];
    const r: EndReason = known.includes(reason) ? reason : 'ended';
    this.set({ ...sessionReset(), phase: 'ended', endReason: r });
    this.chat.addLine('system', t('chat.ended', { reason: endText(r) }));
    if (this.st.autoRequeue) this.waiting.scheduleRequeue(() => this.next({ auto: true }));
  }
}
