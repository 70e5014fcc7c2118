/**
 * The strangers session's phases, and the one place they change: Start →
 * (CAPTCHA) → queued → matched → ended → (auto-)requeued, plus offline and
 * banned. The visitor's actions (start, next, end) and the gateway's session
 * events (welcome, closed, queued, matched, peer-ended, banned) read and write
 * the same few fields here, so a reader can check that no path leaves a stale
 * session on screen; the parts with state of their own (captcha, chat,
 * waiting, call, media) are told from here when a session starts or ends.
 */
import { CloseCode, type ClosedInfo, type GatewayClient, type GatewayError, type WelcomeData } from '../../gateway/client';
import type { Banned, BanInfo, ChatMode, JoinQueue, Matched, NextIn, PeerEnded, PeerEndedReason } from '../../protocol';
import { t } from '../../i18n';
import { narrowedBy } from '../widen';
import type { CaptchaFlow, CaptchaRetry } from './captcha';
import type { ChatPart } from './chat';
import type { LocalMedia } from './media';
import type { CallPart } from './call';
import type { WaitingPart } from './waiting';
import type { Host } from './host';
import { carriedOver, endText, initialState, sessionReset, type EndReason, type StartOptions } from './state';

/** The controller's parts a phase change starts, stops or resets. */
export interface SessionParts {
  captcha: CaptchaFlow;
  chat: ChatPart;
  waiting: WaitingPart;
  call: CallPart;
  media: LocalMedia;
}

export class SessionFlow {
  /** Bumped by every Start, End and ban: answers to older requests are ignored. */
  private startSeq = 0;

  constructor(
    private readonly host: Host,
    private readonly parts: SessionParts,
    private readonly o: { now: () => number; onError: (e: unknown) => void },
  ) {}

  /** The gateway's events that move the session. */
  wire(g: GatewayClient): void {
    g.on('welcome', (w: WelcomeData) => this.onWelcome(w));
    g.on('reconnecting', () => {
      if (this.host.state().screen === 'chat') this.host.set({ selfReconnecting: true });
    });
    g.on('closed', (c: ClosedInfo) => this.onClosed(c));
    g.on('queued', () => {
      const st = this.host.state();
      if (st.screen !== 'chat') return;
      const p = st.phase;
      if (p === 'connecting' || p === 'queued' || p === 'ended') this.host.set({ phase: 'queued', waitingSince: st.waitingSince ?? this.o.now() });
    });
    g.on('matched', (m: Matched) => this.onMatched(m));
    g.on('peer-ended', (p: PeerEnded) => this.onPeerEnded(p?.reason ?? 'ended'));
    g.on('peer-reconnecting', () => {
      if (this.host.state().phase === 'matched') this.host.set({ peerReconnecting: true });
    });
    g.on('peer-reconnected', () => {
      if (this.host.state().phase === 'matched') this.host.set({ peerReconnecting: false });
    });
    g.on('banned', (b: Banned) => this.enterBan(b));
  }

  async start(opts: StartOptions): Promise<void> {
    if (this.host.state().screen === 'banned') return;
    const { captcha, waiting, media } = this.parts;
    const seq = ++this.startSeq;
    const criteria: JoinQueue = { mode: opts.mode };
    if (opts.language) criteria.language = opts.language;
    if (opts.interests.length) criteria.interests = opts.interests;
    if (opts.country === 'mine') criteria.country = 'mine';
    if (opts.countries?.length) criteria.countries = opts.countries;
    if (opts.hideCountry) criteria.hideCountry = true;
    captcha.cancel();
    waiting.stopRequeue();
    waiting.stopCounts();
    this.host.set({
      ...initialState(),
      ...carriedOver(this.host.state()),
      screen: 'chat',
      mode: opts.mode,
      phase: 'connecting',
      criteria,
      narrow: narrowedBy(criteria),
    });

    if (opts.mode === 'video') {
      const stream = await media.open();
      if (seq !== this.startSeq || this.host.state().screen !== 'chat') return;
      this.host.set({ localStream: stream });
    } else {
      media.stop();
    }

    if (this.host.gateway.ready) this.joinQueue();
    else this.host.gateway.connect(); // welcome → joinQueue()
  }

  /** Whether "Next and don't show me this person again" has someone to avoid. */
  canAvoid(): boolean {
    const { screen, phase, reportableSessionId } = this.host.state();
    if (screen !== 'chat' || !reportableSessionId) return false;
    return phase === 'matched' || (phase === 'ended' && this.host.gateway.ready);
  }

  /**
   * Skip the stranger (or, outside a session, look for a new one).
   * `avoid`: never be matched with this stranger again (`next {"avoid": true, "sessionId"}`).
   * `auto`: the automatic requeue after the partner left (the transcript stays until the next match).
   */
  next(opts: { avoid?: boolean; auto?: boolean } = {}): void {
    const st = this.host.state();
    if (st.screen !== 'chat' || st.phase === 'connecting') return;
    const { chat, waiting, call } = this.parts;
    const g = this.host.gateway;
    const avoidSession = opts.avoid && this.canAvoid() ? st.reportableSessionId : null;
    const lastEnd = opts.auto ? st.endReason : null;
    waiting.stopRequeue();
    call.teardown();
    chat.clearStrangerTyping();
    chat.stopTyping(false);
    const wasOffline = this.host.state().phase === 'offline' || g.state === 'closed' || g.state === 'idle';
    this.host.set({
      ...sessionReset(),
      phase: wasOffline ? 'connecting' : 'queued',
      offlineReason: null,
      lastEnd,
      waitingSince: this.o.now(),
      timeoutSuggest: null,
    });
    if (!opts.auto) chat.reset(null);
    if (wasOffline) {
      if (g.ready) this.joinQueue();
      else g.connect();
      return;
    }
    this.sendNext(avoidSession);
  }

  /** End the chat and return to the start screen (the camera preview stays on). */
  end(): void {
    const { phase } = this.host.state();
    const { captcha, chat, waiting, call, media } = this.parts;
    if (phase === 'matched') this.host.gateway.emit('end-call', {});
    else if (phase === 'queued' || phase === 'connecting') this.host.gateway.emit('leave-queue', {});
    this.startSeq++;
    captcha.cancel();
    waiting.stopRequeue();
    call.teardown();
    chat.clearStrangerTyping();
    chat.stopTyping(false);
    if (this.host.state().mode !== 'video') media.stop();
    const st = this.host.state();
    this.host.set({ ...initialState(), ...carriedOver(st), mode: st.mode });
  }

  /** The CAPTCHA was passed: repeat what it refused. */
  runAfterCaptcha(kind: CaptchaRetry): void {
    const st = this.host.state();
    if (st.screen !== 'chat') return;
    if (kind === 'join' || st.phase === 'connecting') {
      if (this.host.gateway.ready) this.joinQueue();
      else this.host.gateway.connect();
    } else if (st.phase === 'queued') {
      this.sendNext();
    }
  }

  /** The ban screen: everything of the session stops (a `banned` event, a 4003, or a 403 on the token). */
  enterBan(ban: BanInfo | null): void {
    const { captcha, chat, waiting, call, media } = this.parts;
    this.startSeq++;
    captcha.cancel();
    waiting.stopRequeue();
    waiting.stopCounts();
    call.teardown();
    chat.stopTyping(false);
    media.stop();
    const b: BanInfo = ban && typeof ban === 'object' ? ban : { until: null, reason: '', appeal: null };
    this.host.set({ ...sessionReset(), screen: 'banned', ban: b, appeal: { status: 'idle', error: null }, phase: 'offline', selfReconnecting: false });
  }

  private joinQueue(): void {
    const st = this.host.state();
    if (!st.criteria || st.screen !== 'chat') return;
    const seq = this.startSeq;
    this.host.set({ phase: 'connecting' });
    this.host.gateway
      .request('join-queue', { ...st.criteria })
      .then((ack) => {
        if (seq !== this.startSeq) return;
        this.parts.waiting.onCounts({ country: (ack as { country?: unknown }).country });
        const now = this.host.state();
        if (now.phase === 'connecting') this.host.set({ phase: 'queued', waitingSince: now.waitingSince ?? this.o.now() });
      })
      .catch((e: GatewayError) => {
        if (seq !== this.startSeq) return;
        if (e.code === 'disconnected' || e.code === 'closed') return; // the welcome after reconnect retries
        if (e.code === 'captcha_required') return this.parts.captcha.needed('join');
        if (this.host.state().phase === 'connecting') this.host.set({ phase: 'offline', offlineReason: e.message || t('offline.join') });
        this.o.onError(e);
      });
  }

  private sendNext(avoidSession: string | null = null): void {
    const seq = this.startSeq;
    const data: NextIn = avoidSession ? { avoid: true, sessionId: avoidSession } : {};
    this.host.gateway
      .request('next', data)
      .then(() => {
        if (avoidSession && seq === this.startSeq) this.host.notify(t('strangers.avoid.done'));
      })
      .catch((e: GatewayError) => {
        if (seq !== this.startSeq) return;
        if (e?.code === 'captcha_required') return this.parts.captcha.needed('next');
        // The chat's record is gone (or was never ours): say so; the skip itself did not happen.
        if (avoidSession && e?.code === 'not_in_session') {
          this.host.notify(t('strangers.avoid.failed'));
          return this.sendNext();
        }
        this.o.onError(e);
      });
  }

  private onWelcome(w: WelcomeData): void {
    if (this.host.state().selfReconnecting) this.host.set({ selfReconnecting: false });
    if (this.host.state().screen !== 'chat') return;
    if (w.resumed) return; // the server gave our place back
    const { phase } = this.host.state();
    if (phase === 'connecting' || phase === 'queued') {
      this.joinQueue();
    } else if (phase === 'matched') {
      // Our place was lost (grace period over): the session is gone.
      this.parts.call.teardown();
      this.host.set({ ...sessionReset(), phase: 'ended', endReason: 'lost' });
    }
  }

  private onClosed(c: ClosedInfo): void {
    if (c.willReconnect || this.host.state().screen === 'banned') return;
    if (c.code === CloseCode.BANNED) return this.enterBan(null); // closed 4003 without a `banned` event first
    if (c.code === CloseCode.NORMAL && this.host.gateway.state === 'closed' && c.reason === 'client closed') return;
    if (this.host.state().screen !== 'chat') return;
    let reason = t('offline.server');
    if (c.code === CloseCode.REPLACED) reason = t('offline.replaced');
    else if (c.code === CloseCode.UNAUTHORIZED) reason = t('offline.unauthorized');
    this.parts.call.teardown();
    this.parts.waiting.stopRequeue();
    this.host.set({ ...sessionReset(), phase: 'offline', offlineReason: reason, selfReconnecting: false });
  }

  private onMatched(m: Matched): void {
    if (!m || typeof m.sessionId !== 'string') return;
    if (this.host.state().screen !== 'chat') {
      // Matched right as we left: hang up.
      this.host.gateway.emit('end-call', {});
      return;
    }
    const { chat, waiting, call, media } = this.parts;
    waiting.stopRequeue();
    call.teardown();
    chat.clearStrangerTyping();
    chat.stopTyping(false);
    const mode: ChatMode = m.mode === 'text' || m.mode === 'video' ? m.mode : this.host.state().mode;
    const common = Array.isArray(m.commonInterests) ? m.commonInterests.filter((x) => typeof x === 'string') : [];
    const country = (m as { country?: unknown }).country;
    this.host.set({
      ...sessionReset(),
      phase: 'matched',
      mode,
      sessionId: m.sessionId,
      reportableSessionId: m.sessionId,
      commonInterests: common,
      partnerCountry: typeof country === 'string' && /^[A-Z]{2}$/.test(country) ? country : null,
      videoState: mode === 'video' ? 'connecting' : null,
      matchedAt: this.o.now(),
      lastEnd: null,
      waitingSince: null,
      timeoutSuggest: null,
    });
    chat.reset(common.length ? t('chat.startedCommon', { interests: common.join(', ') }) : t('chat.started'));
    if (mode === 'video') call.start(m, this.host.state().localStream, media.describe());
  }

  private onPeerEnded(reason: PeerEndedReason): void {
    if (this.host.state().phase !== 'matched') return;
    const { chat, waiting, call } = this.parts;
    call.teardown();
    chat.clearStrangerTyping();
    chat.stopTyping(false);
    const known: EndReason[] = ['ended', 'skipped', 'disconnected', 'banned'];
    const r: EndReason = known.includes(reason) ? reason : 'ended';
    this.host.set({ ...sessionReset(), phase: 'ended', endReason: r });
    chat.addLine('system', t('chat.ended', { reason: endText(r) }));
    if (this.host.state().autoRequeue) waiting.scheduleRequeue(() => this.next({ auto: true }));
  }
}
