/**
 * The strangers app's controller outside React: the store React reads
 * (state, subscribe), the actions the screens call, and the wiring of its
 * parts to the gateway. The phases (Start → queued → matched → ended, offline,
 * banned) change only in session.ts; the other parts: captcha.ts, chat.ts
 * (transcript, typing), media.ts (camera/mic, device switch), reporting.ts
 * (reports, appeals), call.ts (the WebRTC call, quality, media-state,
 * reactions), waiting.ts (counts, match-timeout widen, auto-requeue countdown).
 */
import { GatewayClient, GatewayError, defaultGatewayUrl, type TokenProvider } from '../../gateway/client';
import type { ChatMode, RateLimited, ReportReason, Warning } from '../../protocol';
import { ApiError, GuestTokens, getDeviceId, type ReportResult } from '../../lib/api';
import type { CaptchaSolver } from '../../lib/captcha';
import { publishStrangers } from '../../lib/debug';
import { hasKey, t } from '../../i18n';
import type { MediaKind } from '../../media/devices';
import type { WidenKind } from '../widen';
import { countryCriteria, loadPrefs, savePrefs } from '../prefs';
import { CaptchaFlow } from './captcha';
import { ChatPart } from './chat';
import { LocalMedia } from './media';
import { sendAppeal, sendReport } from './reporting';
import { CallPart } from './call';
import { WaitingPart } from './waiting';
import { SessionFlow } from './session';
import type { Host } from './host';
import { FrameCheckPart, type FrameCheckDeps } from '../framecheck/part';
import { initialState, type ChatState, type StartOptions } from './state';

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
  /** The phases and their transitions (session.ts). */
  private readonly session: SessionFlow;
  /** Automatic frame moderation of our camera (../framecheck/part.ts). */
  readonly frames: FrameCheckPart;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private escTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: ControllerDeps = {}) {
    this.deps = deps;
    this.tokens = deps.tokens ?? new GuestTokens(getDeviceId());
    const gw = deps.gateway;
    this.gateway = typeof gw === 'function' ? gw(this.getToken) : (gw ?? new GatewayClient({ url: () => defaultGatewayUrl(), getToken: this.getToken }));
    this.st = { ...this.st, autoRequeue: deps.autoRequeue ?? loadPrefs().autoRequeue };
    this.captcha = new CaptchaFlow(this, (k) => this.session.runAfterCaptcha(k), deps.solveCaptcha);
    this.chat = new ChatPart(this, (e) => this.requestFailed(e));
    this.waiting = new WaitingPart(this, () => this.now(), (e) => this.requestFailed(e));
    this.frames = new FrameCheckPart(this, { getToken: () => this.getToken(), fetch: deps.fetch, ...deps.frameCheck });
    this.call = new CallPart(this, { PeerConnectionImpl: deps.PeerConnectionImpl, now: () => this.now(), onError: (e) => this.requestFailed(e), frames: this.frames });
    this.media = new LocalMedia(this, deps, () => this.call.pc, () => this.call.sendMediaState(this.media.describe()));
    const parts = { captcha: this.captcha, chat: this.chat, waiting: this.waiting, call: this.call, media: this.media };
    this.session = new SessionFlow(this, parts, { now: () => this.now(), onError: (e) => this.requestFailed(e) });
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
        this.session.enterBan(err.ban ?? null);
        this.gateway.close(); // stop reconnecting
      }
      throw err;
    }
  };

  // ------------------------------------------------------------ actions

  /** Start looking for a stranger with these choices (session.ts). */
  start(opts: StartOptions): Promise<void> {
    return this.session.start(opts);
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
    return this.session.canAvoid();
  }

  /** Skip the stranger, or look for one (`avoid`: never again; `auto`: the requeue after they left). */
  next(opts: { avoid?: boolean; auto?: boolean } = {}): void {
    this.session.next(opts);
  }

  /** End the chat and return to the start screen (the camera preview stays on). */
  end(): void {
    this.session.end();
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

  /** The gateway's events: the session's to session.ts, the rest to the parts. */
  private wire(): void {
    const g = this.gateway;
    this.session.wire(g);
    g.on('queue-status', (q) => this.waiting.onQueueStatus(q));
    g.on('match-timeout', (m) => this.waiting.onMatchTimeout(m));
    this.call.wire(g);
    this.frames.wire(g);
    g.on('message', (m) => this.chat.onMessage(m));
    g.on('typing', (ev) => this.chat.onTyping(ev));
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
  }
}
