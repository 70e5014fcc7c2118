/**
 * The contacts product outside React: account session, contacts search,
 * channels and messages (with offline delivery acks, reactions, typing,
 * attachments) and direct calls over the gateway (WebRTC via PeerCall).
 *
 * One GatewayClient per login, connected to /ws with the account's access
 * token, stays up while logged in (on every route) so calls can ring.
 */
import { GatewayClient, defaultGatewayUrl, type ClosedInfo, type WebSocketCtor, type WelcomeData } from '../gateway/client';
import type {
  AnswerEvent,
  AttachmentOut,
  CallAcceptedOut,
  CallEndedOut,
  CallMissedOut,
  CallRejectedOut,
  CandidateEvent,
  CandidatePayload,
  ChannelMessageOut,
  ChannelTypingOut,
  IncomingCallOut,
  MessageReactionOut,
  OfferEvent,
  SessionDescriptionPayload,
  UserOut,
} from '../protocol';
import { ApiError } from './api';
import { AuthStore, type Account } from './auth';
import { callReducer, initialCallState, isCallActive, type CallEvent, type CallMedia, type CallState } from './callState';
import { publishContacts } from './debug';
import {
  AckBatcher,
  addLocal,
  applyReaction,
  applyReactionEvent,
  hasReacted,
  isLocal,
  localId,
  markFailed,
  markSending,
  maxSeq,
  mergeMessages,
  newClientId,
  type Message,
  type UiMessage,
} from './messages';
import { PeerCall } from './peer';

export interface Channel {
  id: string;
  peer: UserOut;
  createdAt: string;
  lastMessage: Message | null;
  unreadCount: number;
  /** You blocked this peer (the server refuses messages and calls both ways). */
  blocked?: boolean;
}

export interface BlockedUser {
  user: UserOut;
  createdAt: string;
}

export const REPORT_REASONS = ['harassment', 'spam', 'nudity', 'violence', 'underage', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

export interface ConversationReport {
  channelId: string;
  /** One of the other member's messages; omitted to report the person. */
  messageId?: string;
  reason: ReportReason;
  comment?: string;
}

export interface CallRecord {
  callId: string;
  status: 'ringing' | 'accepted' | 'rejected' | 'cancelled' | 'missed' | 'ended' | 'busy';
  caller: UserOut;
  callee: UserOut;
  media: CallMedia;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  durationS: number | null;
}

export type AuthPhase = 'checking' | 'loggedOut' | 'loggedIn' | 'error';

export interface ContactsState {
  auth: AuthPhase;
  me: Account | null;
  myAvatarUrl: string | null;
  authBusy: boolean;
  authError: string | null;
  profileNotice: string | null;
  gateway: 'offline' | 'connecting' | 'ready' | 'reconnecting';
  channels: Channel[];
  channelsLoaded: boolean;
  searchQuery: string;
  searchResults: UserOut[];
  searching: boolean;
  openChannelId: string | null;
  messages: Record<string, UiMessage[]>;
  loadingChannel: string | null;
  /** channelId → userId typing (hidden after ttlMs without a refresh). */
  typing: Record<string, string>;
  uploading: boolean;
  call: CallState;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  mediaError: string | null;
  history: CallRecord[];
  /** People you blocked (GET /api/blocks), newest first. */
  blocks: BlockedUser[];
  /** The last error of an action (shown in `contacts-error`). */
  error: string | null;
}

export function initialContactsState(): ContactsState {
  return {
    auth: 'checking',
    me: null,
    myAvatarUrl: null,
    authBusy: false,
    authError: null,
    profileNotice: null,
    gateway: 'offline',
    channels: [],
    channelsLoaded: false,
    searchQuery: '',
    searchResults: [],
    searching: false,
    openChannelId: null,
    messages: {},
    loadingChannel: null,
    typing: {},
    uploading: false,
    call: initialCallState(),
    localStream: null,
    remoteStream: null,
    micOn: true,
    camOn: true,
    mediaError: null,
    history: [],
    blocks: [],
    error: null,
  };
}

export interface ContactsDeps {
  auth?: AuthStore;
  WebSocketImpl?: WebSocketCtor;
  gatewayUrl?: () => string;
  getUserMedia?: (c: MediaStreamConstraints) => Promise<MediaStream>;
  PeerConnectionImpl?: typeof RTCPeerConnection;
  /** Whether the page is visible (mark read only then). */
  isVisible?: () => boolean;
  createObjectURL?: (b: Blob) => string;
}

const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
export const MAX_TEXT_CHARS = 4000;
const PAGE_LIMIT = 200;
export const REACTION_EMOJI = '👍';

type Signal =
  | { kind: 'offer'; sdp: SessionDescriptionPayload }
  | { kind: 'answer'; sdp: SessionDescriptionPayload }
  | { kind: 'candidate'; c: CandidatePayload };

const enc = encodeURIComponent;

export class ContactsController {
  private state: ContactsState = initialContactsState();
  private listeners = new Set<() => void>();
  readonly auth: AuthStore;
  private readonly deps: ContactsDeps;
  gateway: GatewayClient | null = null;
  private gatewayOff: Array<() => void> = [];
  private peer: PeerCall | null = null;
  private pendingSignals: Signal[] = [];
  private acks: AckBatcher;
  private blobCache = new Map<string, Promise<string>>();
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private typingOut: { channelId: string; sentAt: number; idle: ReturnType<typeof setTimeout> | null } | null = null;
  private lastReadSent = new Map<string, number>();
  private loadedChannels = new Set<string>();
  private outbox = new Map<string, { channelId: string; text: string; attachmentId?: string }>();
  private searchSeq = 0;
  private session = 0;
  /** Call events that arrived while our POST /api/calls was still in flight. */
  private earlyCallEvents: CallEvent[] = [];
  /** Calls this device hung up / cancelled (a late call-accepted is hung up). */
  private endedHere = new Set<string>();
  private readyWaiters: Array<() => void> = [];

  constructor(deps: ContactsDeps = {}) {
    this.deps = deps;
    this.auth = deps.auth ?? new AuthStore();
    this.acks = new AckBatcher((ids) => this.auth.json('POST', '/api/messages/delivered', { ids }));
    this.auth.onSignedOut(() => this.signedOut('Your session has ended — please log in again.'));
    this.publishDebug();
  }

  // ------------------------------------------------------------ store API

  getState = (): ContactsState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(patch: Partial<ContactsState>): void {
    this.state = { ...this.state, ...patch };
    this.publishDebug();
    for (const l of [...this.listeners]) l();
  }

  private publishDebug(): void {
    publishContacts({
      pc: this.peer?.pc ?? null,
      sessionId: this.state.call.sessionId,
      callId: this.state.call.callId,
      connectionId: this.gateway?.connectionId ?? null,
      controller: this,
    });
  }

  // ------------------------------------------------------------ session

  /** Restore the session from the stored refresh token (call once at startup). */
  async init(): Promise<void> {
    if (!this.auth.loggedIn) {
      this.set({ auth: 'loggedOut' });
      return;
    }
    await this.loadSession();
  }

  private async loadSession(): Promise<void> {
    const seq = ++this.session;
    this.set({ auth: 'checking', authError: null });
    let me: Account;
    try {
      me = await this.auth.json<Account>('GET', '/api/auth/me');
    } catch (err) {
      if (seq !== this.session) return;
      if (!this.auth.loggedIn) this.set({ auth: 'loggedOut' });
      else this.set({ auth: 'error', authError: errText(err) });
      return;
    }
    if (seq !== this.session) return;
    this.set({ auth: 'loggedIn', me, authError: null });
    this.connectGateway();
    void this.refreshChannels();
    void this.refreshHistory();
    void this.refreshBlocks();
    void this.findMyAvatar(me);
  }

  /** /me has no avatar: find our own entry in the user search (best effort). */
  private async findMyAvatar(me: Account): Promise<void> {
    const seq = this.session;
    try {
      const r = await this.auth.json<{ users: UserOut[] }>('GET', `/api/users?query=${enc(me.displayName.slice(0, 64))}&limit=50`);
      const mine = (r.users ?? []).find((u) => u.id === me.id);
      if (seq === this.session && mine?.avatarUrl && !this.state.myAvatarUrl) this.set({ myAvatarUrl: mine.avatarUrl });
    } catch {
      /* no avatar shown */
    }
  }

  retrySession(): void {
    void this.loadSession();
  }

  async signup(email: string, password: string, displayName: string): Promise<void> {
    if (password.length < 10) {
      this.set({ authError: 'The password must be at least 10 characters.' });
      return;
    }
    this.set({ authBusy: true, authError: null });
    try {
      await this.auth.signup(email.trim(), password, displayName.trim());
      await this.auth.login(email.trim(), password);
    } catch (err) {
      this.set({ authBusy: false, authError: errText(err) });
      return;
    }
    this.set({ authBusy: false });
    await this.loadSession();
  }

  async login(email: string, password: string): Promise<void> {
    this.set({ authBusy: true, authError: null });
    try {
      await this.auth.login(email.trim(), password);
    } catch (err) {
      this.set({ authBusy: false, authError: errText(err) });
      return;
    }
    this.set({ authBusy: false });
    await this.loadSession();
  }

  async logout(): Promise<void> {
    if (isCallActive(this.state.call)) this.hangup();
    this.teardownGateway();
    await this.auth.logout();
    this.resetLocal();
    this.set({ ...initialContactsState(), auth: 'loggedOut' });
  }

  private signedOut(message: string): void {
    this.teardownCall();
    this.teardownGateway();
    this.resetLocal();
    this.set({ ...initialContactsState(), auth: 'loggedOut', authError: message });
  }

  private resetLocal(): void {
    this.session++;
    this.loadedChannels.clear();
    this.lastReadSent.clear();
    this.outbox.clear();
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
    if (this.typingOut?.idle) clearTimeout(this.typingOut.idle);
    this.typingOut = null;
    for (const p of this.blobCache.values()) p.then((u) => revokeUrl(u)).catch(() => undefined);
    this.blobCache.clear();
    this.earlyCallEvents = [];
  }

  async saveProfile(displayName: string): Promise<void> {
    const name = displayName.trim();
    if (!name) return;
    this.set({ profileNotice: null, error: null });
    try {
      const me = await this.auth.json<Account>('PUT', '/api/auth/profile', { displayName: name });
      this.set({ me, profileNotice: 'Saved' });
    } catch (err) {
      this.fail(err);
    }
  }

  async uploadAvatar(file: File): Promise<void> {
    this.set({ profileNotice: null, error: null });
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const u = await this.auth.upload<UserOut>('/api/auth/avatar', form);
      this.set({ myAvatarUrl: u.avatarUrl, profileNotice: 'Avatar updated' });
      if (this.state.me) this.set({ me: { ...this.state.me, displayName: u.displayName } });
    } catch (err) {
      this.fail(err);
    }
  }

  /** Object URL of a protected resource (avatar, attachment), cached per URL. */
  blobUrl(url: string): Promise<string> {
    let p = this.blobCache.get(url);
    if (!p) {
      const make = this.deps.createObjectURL ?? ((b: Blob) => URL.createObjectURL(b));
      p = this.auth.blob(url).then(make);
      p.catch(() => this.blobCache.delete(url));
      this.blobCache.set(url, p);
    }
    return p;
  }

  dismissError(): void {
    this.set({ error: null });
  }

  // ------------------------------------------------------------ contacts & channels

  async search(query: string): Promise<void> {
    const seq = ++this.searchSeq;
    this.set({ searchQuery: query });
    const q = query.trim();
    if (!q) {
      this.set({ searchResults: [], searching: false });
      return;
    }
    this.set({ searching: true });
    try {
      const r = await this.auth.json<{ users: UserOut[] }>('GET', `/api/users?query=${enc(q)}&limit=20`);
      if (seq !== this.searchSeq) return;
      const me = this.state.me?.id;
      this.set({ searchResults: (r.users ?? []).filter((u) => u.id !== me), searching: false });
    } catch (err) {
      if (seq !== this.searchSeq) return;
      this.set({ searching: false });
      this.fail(err);
    }
  }

  /** POST /api/channels for a user (same channel every time); returns its id. */
  async openChatWith(userId: string): Promise<string | null> {
    try {
      const ch = await this.auth.json<Channel>('POST', '/api/channels', { userId });
      this.upsertChannel(ch);
      return ch.id;
    } catch (err) {
      this.fail(err);
      return null;
    }
  }

  async refreshChannels(): Promise<void> {
    const seq = this.session;
    try {
      const r = await this.auth.json<{ channels: Channel[] }>('GET', '/api/channels');
      if (seq !== this.session) return;
      const open = this.state.openChannelId;
      const channels = (r.channels ?? []).map((c) => (c.id === open && this.visible() ? { ...c, unreadCount: 0 } : c));
      this.set({ channels: sortChannels(channels), channelsLoaded: true });
      if (open) this.markRead(open);
    } catch (err) {
      if (seq !== this.session) return;
      this.set({ channelsLoaded: true });
      this.fail(err);
    }
  }

  async refreshHistory(): Promise<void> {
    const seq = this.session;
    try {
      const r = await this.auth.json<{ calls: CallRecord[] }>('GET', '/api/calls');
      if (seq === this.session) this.set({ history: r.calls ?? [] });
    } catch {
      /* the list just stays as it was */
    }
  }

  // ------------------------------------------------------------ safety: block, report

  async refreshBlocks(): Promise<void> {
    const seq = this.session;
    try {
      const r = await this.auth.json<{ blocks: BlockedUser[] }>('GET', '/api/blocks');
      if (seq === this.session) this.set({ blocks: r.blocks ?? [] });
    } catch {
      /* the list just stays as it was */
    }
  }

  /** Block a user: the server stops everything of theirs reaching us; true on success. */
  async block(user: UserOut): Promise<boolean> {
    try {
      await this.auth.json('POST', `/api/users/${enc(user.id)}/block`);
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.setBlocked(user.id, true);
    this.set({ blocks: [{ user, createdAt: new Date().toISOString() }, ...this.state.blocks.filter((b) => b.user.id !== user.id)] });
    void this.refreshBlocks();
    return true;
  }

  async unblock(userId: string): Promise<boolean> {
    try {
      await this.auth.json('DELETE', `/api/users/${enc(userId)}/block`);
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.setBlocked(userId, false);
    this.set({ blocks: this.state.blocks.filter((b) => b.user.id !== userId) });
    void this.refreshBlocks();
    return true;
  }

  isBlocked(userId: string): boolean {
    return this.state.blocks.some((b) => b.user.id === userId) || this.state.channels.some((c) => c.peer.id === userId && c.blocked);
  }

  private setBlocked(userId: string, blocked: boolean): void {
    this.set({ channels: this.state.channels.map((c) => (c.peer.id === userId ? { ...c, blocked } : c)) });
  }

  /** Report the other member of a conversation (or one of their messages); throws on refusal. */
  async report(r: ConversationReport): Promise<void> {
    const body: Record<string, unknown> = { channelId: r.channelId, reason: r.reason };
    if (r.messageId) body.messageId = r.messageId;
    const comment = r.comment?.trim();
    if (comment) body.comment = comment.slice(0, 1000);
    await this.auth.json('POST', '/api/reports', body);
  }

  channel(id: string | null): Channel | null {
    if (!id) return null;
    return this.state.channels.find((c) => c.id === id) ?? null;
  }

  /** The conversation is on screen (or null: none). Loads every page the first time. */
  openChannel(id: string | null): void {
    if (this.state.openChannelId !== id) {
      this.stopTyping();
      this.set({ openChannelId: id });
    }
    if (!id) return;
    if (!this.loadedChannels.has(id)) void this.loadMessages(id, 0);
    else this.markRead(id);
  }

  private async loadMessages(channelId: string, after: number): Promise<void> {
    const seq = this.session;
    this.loadedChannels.add(channelId);
    if (after === 0) this.set({ loadingChannel: channelId });
    let cursor: number | null = after;
    try {
      while (cursor !== null) {
        const page: { messages: Message[]; nextCursor: number | null } = await this.auth.json(
          'GET',
          `/api/channels/${enc(channelId)}/messages?after=${cursor}&limit=${PAGE_LIMIT}`,
        );
        if (seq !== this.session) return;
        this.mergeInto(channelId, page.messages ?? []);
        const next: number | null = page.nextCursor ?? null;
        cursor = next !== null && next !== cursor ? next : null;
      }
    } catch (err) {
      if (seq !== this.session) return;
      if (after === 0) this.loadedChannels.delete(channelId);
      this.fail(err);
    } finally {
      if (seq === this.session && this.state.loadingChannel === channelId) this.set({ loadingChannel: null });
    }
    if (seq === this.session && this.state.openChannelId === channelId) this.markRead(channelId);
  }

  private mergeInto(channelId: string, incoming: Message[]): void {
    if (!incoming.length) return;
    const me = this.state.me?.id;
    for (const m of incoming) if (m.senderId !== me && !m.deliveredAt) this.acks.add(m.id);
    const list = mergeMessages(this.state.messages[channelId] ?? [], incoming);
    const last = list.filter((m) => !isLocal(m)).at(-1) ?? null;
    const channels = this.state.channels.map((c) =>
      c.id === channelId && last && (!c.lastMessage || last.seq >= c.lastMessage.seq) ? { ...c, lastMessage: last } : c,
    );
    this.set({ messages: { ...this.state.messages, [channelId]: list }, channels: sortChannels(channels) });
  }

  private upsertChannel(ch: Channel): void {
    const rest = this.state.channels.filter((c) => c.id !== ch.id);
    const old = this.state.channels.find((c) => c.id === ch.id);
    this.set({ channels: sortChannels([...rest, old ? { ...ch, lastMessage: newer(old.lastMessage, ch.lastMessage) } : ch]) });
  }

  /** POST /read with the newest seq shown (once per seq), and clear the badge. */
  markRead(channelId: string): void {
    if (!this.visible() || this.state.openChannelId !== channelId) return;
    const seq = maxSeq(this.state.messages[channelId] ?? []);
    const ch = this.channel(channelId);
    if (ch && ch.unreadCount) {
      this.set({ channels: this.state.channels.map((c) => (c.id === channelId ? { ...c, unreadCount: 0 } : c)) });
    }
    if (seq <= 0 || (this.lastReadSent.get(channelId) ?? 0) >= seq) return;
    this.lastReadSent.set(channelId, seq);
    this.auth.json('POST', `/api/channels/${enc(channelId)}/read`, { seq }).catch(() => {
      if ((this.lastReadSent.get(channelId) ?? 0) === seq) this.lastReadSent.delete(channelId);
    });
  }

  /** The page became visible again. */
  visibilityChanged(): void {
    const open = this.state.openChannelId;
    if (open) this.markRead(open);
  }

  // ------------------------------------------------------------ messages

  sendText(channelId: string, raw: string): boolean {
    const text = raw.trim().slice(0, MAX_TEXT_CHARS);
    if (!text) return false;
    this.stopTyping();
    this.queueSend(channelId, text, null);
    return true;
  }

  async sendFile(channelId: string, file: File, text = ''): Promise<void> {
    this.set({ uploading: true, error: null });
    const form = new FormData();
    form.append('channelId', channelId);
    form.append('file', file, file.name);
    let att: AttachmentOut;
    try {
      att = await this.auth.upload<AttachmentOut>('/api/attachments', form);
    } catch (err) {
      this.set({ uploading: false });
      this.fail(err);
      return;
    }
    this.set({ uploading: false });
    this.queueSend(channelId, text.trim(), att);
  }

  /** Send again a message that failed (same clientId, so the server dedupes). */
  retry(clientId: string): void {
    const o = this.outbox.get(clientId);
    if (!o) return;
    this.set({ messages: { ...this.state.messages, [o.channelId]: markSending(this.state.messages[o.channelId] ?? [], clientId) } });
    void this.post(clientId);
  }

  private queueSend(channelId: string, text: string, att: AttachmentOut | null): void {
    const me = this.state.me;
    if (!me) return;
    const clientId = newClientId();
    const local: UiMessage = {
      id: localId(clientId),
      channelId,
      seq: 0,
      senderId: me.id,
      text,
      attachment: att,
      clientId,
      createdAt: new Date().toISOString(),
      deliveredAt: null,
      reactions: [],
      status: 'sending',
    };
    this.outbox.set(clientId, { channelId, text, ...(att ? { attachmentId: att.id } : {}) });
    this.set({ messages: { ...this.state.messages, [channelId]: addLocal(this.state.messages[channelId] ?? [], local) } });
    void this.post(clientId);
  }

  private async post(clientId: string, attempt = 0): Promise<void> {
    const o = this.outbox.get(clientId);
    if (!o) return;
    const seq = this.session;
    const body: Record<string, unknown> = { text: o.text, clientId };
    if (o.attachmentId) body.attachmentId = o.attachmentId;
    try {
      const m = await this.auth.json<Message>('POST', `/api/channels/${enc(o.channelId)}/messages`, body);
      if (seq !== this.session) return;
      this.outbox.delete(clientId);
      this.mergeInto(o.channelId, [m]);
    } catch (err) {
      if (seq !== this.session) return;
      const e = err as ApiError;
      // Network trouble / server hiccup: try again with the same clientId.
      if ((e?.status === 0 || e?.status >= 500 || e?.status === 429) && attempt < 3) {
        const wait = e?.retryAfterMs ?? 1000 * 2 ** attempt;
        setTimeout(() => void this.post(clientId, attempt + 1), wait);
        return;
      }
      this.set({
        messages: { ...this.state.messages, [o.channelId]: markFailed(this.state.messages[o.channelId] ?? [], clientId, errText(err)) },
      });
    }
  }

  async toggleReaction(messageId: string, emoji = REACTION_EMOJI): Promise<void> {
    const me = this.state.me?.id;
    if (!me) return;
    const found = this.findMessage(messageId);
    if (!found || isLocal(found.m)) return;
    const { channelId, m } = found;
    const had = hasReacted(m, emoji, me);
    const apply = (action: 'added' | 'removed') => {
      const list = (this.state.messages[channelId] ?? []).map((x) =>
        x.id === messageId ? { ...x, reactions: applyReaction(x.reactions, emoji, me, action) } : x,
      );
      this.set({ messages: { ...this.state.messages, [channelId]: list } });
    };
    apply(had ? 'removed' : 'added');
    try {
      if (had) await this.auth.json('DELETE', `/api/messages/${enc(messageId)}/reactions?emoji=${enc(emoji)}`);
      else await this.auth.json('POST', `/api/messages/${enc(messageId)}/reactions`, { emoji });
    } catch (err) {
      apply(had ? 'added' : 'removed');
      this.fail(err);
    }
  }

  private findMessage(id: string): { channelId: string; m: UiMessage } | null {
    for (const [channelId, list] of Object.entries(this.state.messages)) {
      const m = list.find((x) => x.id === id);
      if (m) return { channelId, m };
    }
    return null;
  }

  /** Call on every change of the message input. */
  inputChanged(channelId: string, text: string): void {
    if (!text.trim()) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    const t = this.typingOut;
    if (!t || t.channelId !== channelId || now - t.sentAt > TYPING_RESEND_MS) {
      if (t && t.channelId !== channelId) this.stopTyping();
      this.gateway?.emit('channel-typing', { channelId, active: true });
      this.typingOut = { channelId, sentAt: now, idle: this.typingOut?.idle ?? null };
    }
    const cur = this.typingOut!;
    if (cur.idle) clearTimeout(cur.idle);
    cur.idle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    const t = this.typingOut;
    if (!t) return;
    if (t.idle) clearTimeout(t.idle);
    this.typingOut = null;
    this.gateway?.emit('channel-typing', { channelId: t.channelId, active: false });
  }

  // ------------------------------------------------------------ gateway

  private connectGateway(): void {
    if (this.gateway) return;
    const g = new GatewayClient({
      url: this.deps.gatewayUrl ?? (() => defaultGatewayUrl()),
      getToken: this.auth.getToken,
      ...(this.deps.WebSocketImpl ? { WebSocketImpl: this.deps.WebSocketImpl } : {}),
    });
    this.gateway = g;
    const off = this.gatewayOff;
    off.push(g.on('welcome', (w: WelcomeData) => this.onWelcome(w)));
    off.push(
      g.on('reconnecting', () => {
        this.set({ gateway: 'reconnecting' });
        this.callEvent({ type: 'self-reconnecting', on: true });
      }),
    );
    off.push(g.on('closed', (c: ClosedInfo) => this.onClosed(c)));
    off.push(g.on('channel-message', (m: ChannelMessageOut) => this.onChannelMessage(m)));
    off.push(g.on('channel-typing', (t: ChannelTypingOut) => this.onChannelTyping(t)));
    off.push(g.on('message-reaction', (r: MessageReactionOut) => this.onReaction(r)));
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
    off.push(
      g.on('error', (e: { message?: string }) => {
        if (e?.message) this.set({ error: e.message });
      }),
    );
    this.set({ gateway: 'connecting' });
    g.connect();
  }

  private teardownGateway(): void {
    for (const f of this.gatewayOff) f();
    this.gatewayOff = [];
    this.gateway?.close();
    this.gateway = null;
    this.readyWaiters = [];
    this.set({ gateway: 'offline' });
  }

  private onWelcome(w: WelcomeData): void {
    const wasReconnecting = this.state.gateway === 'reconnecting';
    this.set({ gateway: 'ready' });
    this.callEvent({ type: 'self-reconnecting', on: false });
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const f of waiters) f();
    const c = this.state.call;
    if (!w.resumed && (c.phase === 'connecting' || c.phase === 'connected')) {
      // Our connection was replaced: the server has ended the call.
      this.callEvent({ type: 'lost' });
    }
    if (wasReconnecting) {
      // Catch up on what we may have missed while away.
      void this.refreshChannels();
      for (const id of this.loadedChannels) {
        if (id === this.state.openChannelId) void this.loadMessages(id, maxSeq(this.state.messages[id] ?? []));
      }
      void this.refreshHistory();
    }
  }

  private onClosed(c: ClosedInfo): void {
    if (c.willReconnect) {
      if (this.state.gateway === 'ready') this.set({ gateway: 'reconnecting' });
      return;
    }
    if (!this.gateway) return; // we closed it
    this.set({ gateway: 'offline' });
    this.callEvent({ type: 'lost' });
  }

  /** The gateway connection id, waiting (up to 10 s) for the welcome. */
  private async connectionId(): Promise<string> {
    const g = this.gateway;
    if (!g) throw new ApiError(0, 'offline', 'Not connected — please log in.');
    if (g.ready && g.connectionId) return g.connectionId;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new ApiError(0, 'offline', 'Not connected to the server — try again.')), 10_000);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    if (!this.gateway?.connectionId) throw new ApiError(0, 'offline', 'Not connected to the server — try again.');
    return this.gateway.connectionId;
  }

  private onChannelMessage(m: ChannelMessageOut): void {
    const me = this.state.me?.id;
    if (!m || typeof m.id !== 'string' || !me) return;
    const known = (this.state.messages[m.channelId] ?? []).some((x) => x.id === m.id);
    const ch = this.channel(m.channelId);
    if (!ch) {
      // A new conversation: fetch the list (with the server's unread count).
      this.mergeInto(m.channelId, [m]);
      if (m.senderId !== me) this.acks.add(m.id);
      void this.refreshChannels();
      return;
    }
    const isNew = !known && (!ch.lastMessage || m.seq > ch.lastMessage.seq);
    this.mergeInto(m.channelId, [m]);
    if (m.senderId !== me) {
      this.acks.add(m.id);
      this.clearTyping(m.channelId);
      if (isNew) {
        const reading = this.state.openChannelId === m.channelId && this.visible();
        if (!reading) {
          this.set({
            channels: this.state.channels.map((c) => (c.id === m.channelId ? { ...c, unreadCount: c.unreadCount + 1 } : c)),
          });
        }
      }
      if (this.state.openChannelId === m.channelId) this.markRead(m.channelId);
    }
  }

  private onChannelTyping(t: ChannelTypingOut): void {
    if (!t || t.userId === this.state.me?.id) return;
    if (t.active) {
      const old = this.typingTimers.get(t.channelId);
      if (old) clearTimeout(old);
      const ttl = typeof t.ttlMs === 'number' && t.ttlMs > 0 ? t.ttlMs : 6000;
      this.typingTimers.set(
        t.channelId,
        setTimeout(() => this.clearTyping(t.channelId), ttl),
      );
      if (this.state.typing[t.channelId] !== t.userId) this.set({ typing: { ...this.state.typing, [t.channelId]: t.userId } });
    } else {
      this.clearTyping(t.channelId);
    }
  }

  private clearTyping(channelId: string): void {
    const old = this.typingTimers.get(channelId);
    if (old) clearTimeout(old);
    this.typingTimers.delete(channelId);
    if (!(channelId in this.state.typing)) return;
    const typing = { ...this.state.typing };
    delete typing[channelId];
    this.set({ typing });
  }

  private onReaction(r: MessageReactionOut): void {
    if (!r || typeof r.messageId !== 'string') return;
    const list = this.state.messages[r.channelId];
    if (!list) return;
    const next = applyReactionEvent(list, r);
    if (next !== list) this.set({ messages: { ...this.state.messages, [r.channelId]: next } });
  }

  // ------------------------------------------------------------ calls

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
      this.callEvent({ type: 'place-failed', code: e?.code ?? 'error', message: errText(err) });
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
      .catch(() => undefined);
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
    s.getAudioTracks().forEach((t) => (t.enabled = on));
    this.set({ micOn: on });
  }

  toggleCamera(): void {
    const s = this.state.localStream;
    if (!s || !s.getVideoTracks().length) return;
    const on = !this.state.camOn;
    s.getVideoTracks().forEach((t) => (t.enabled = on));
    this.set({ camOn: on });
  }

  private endOnServer(callId: string, attempt = 0): void {
    this.auth.json('POST', `/api/calls/${enc(callId)}/end`, { reason: 'hangup' }).catch((err: ApiError) => {
      // The call changed state meanwhile (e.g. it was answered as we cancelled): try once more.
      if (err?.code === 'invalid_call_state' && attempt < 1) setTimeout(() => this.endOnServer(callId, attempt + 1), 300);
    });
  }

  private onIncomingCall(c: IncomingCallOut): void {
    if (!c || typeof c.callId !== 'string') return;
    const media: CallMedia = c.media === 'audio' ? 'audio' : 'video';
    this.callEvent({ type: 'incoming', callId: c.callId, caller: c.caller, media });
  }

  /** A server call event: stash it while our own POST /api/calls is still in flight. */
  private callEventById(callId: string | undefined, ev: CallEvent): void {
    if (typeof callId !== 'string') return;
    const c = this.state.call;
    if (c.phase === 'placing' && c.callId === null) {
      this.earlyCallEvents.push(ev);
      return;
    }
    if (ev.type === 'accepted' && !ev.data.answeredElsewhere && this.endedHere.has(callId) && c.callId !== callId) {
      this.endOnServer(callId); // answered after we gave up
      return;
    }
    if (ev.type === 'accepted' && !ev.data.answeredElsewhere && this.endedHere.has(callId) && c.phase === 'ended') {
      this.endOnServer(callId);
      return;
    }
    this.callEvent(ev);
  }

  private callEvent(ev: CallEvent): void {
    const prev = this.state.call;
    const next = callReducer(prev, ev);
    if (next === prev) return;
    const wasLive = isCallActive(prev);
    this.set({ call: next });
    if (next.sessionId && next.sessionId !== prev.sessionId) this.startPeer(next);
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
          if (this.peer === peer) this.set({ remoteStream: stream });
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
      this.set({ mediaError: 'Could not start the call in this browser.' });
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

  private teardownCall(): void {
    this.peer?.close();
    this.peer = null;
    this.pendingSignals = [];
    stopStream(this.state.localStream);
    this.set({ localStream: null, remoteStream: null, micOn: true, camOn: true });
  }

  private async getMedia(media: CallMedia): Promise<MediaStream | null> {
    const gum =
      this.deps.getUserMedia ??
      (typeof navigator !== 'undefined' && navigator.mediaDevices?.getUserMedia
        ? (c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c)
        : null);
    if (!gum) {
      this.set({ mediaError: 'Camera/microphone are not available in this browser.' });
      return null;
    }
    try {
      const s = await gum(media === 'audio' ? { audio: true, video: false } : { audio: true, video: true });
      this.set({ mediaError: null });
      return s;
    } catch (err) {
      const name = (err as Error)?.name;
      this.set({
        mediaError:
          name === 'NotAllowedError'
            ? 'Camera/microphone permission was denied — the other side will not see or hear you.'
            : 'Could not start camera/microphone — the other side will not see or hear you.',
      });
      return null;
    }
  }

  // ------------------------------------------------------------ misc

  private visible(): boolean {
    if (this.deps.isVisible) return this.deps.isVisible();
    return typeof document === 'undefined' || document.visibilityState !== 'hidden';
  }

  private fail(err: unknown): void {
    this.set({ error: errText(err) });
  }

  /** Page is going away. */
  shutdown(): void {
    this.teardownCall();
    this.gateway?.close();
  }
}

export function errText(err: unknown): string {
  const e = err as { message?: string } | null;
  return (e && typeof e.message === 'string' && e.message) || 'Something went wrong';
}

function stopStream(s: MediaStream | null): void {
  s?.getTracks().forEach((t) => t.stop());
}

function revokeUrl(u: string): void {
  try {
    URL.revokeObjectURL(u);
  } catch {
    /* ignore */
  }
}

function newer(a: Message | null, b: Message | null): Message | null {
  if (!a) return b;
  if (!b) return a;
  return b.seq >= a.seq ? b : a;
}

/** Most recent conversation first (by last message, else creation time). */
export function sortChannels(list: Channel[]): Channel[] {
  const key = (c: Channel) => c.lastMessage?.createdAt ?? c.createdAt ?? '';
  return [...list].sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}
