/**
 * Controller part 2 of 5 — conversations and messages over REST: the channel
 * list, people search, loading pages, the outbox (optimistic sends with the
 * same clientId on retry), replies, edits, deletes, reactions, typing, read
 * marks (only while the conversation is on screen) and search in a conversation.
 *
 * Over 400 lines on purpose: every action here edits the same per-channel
 * message list through the same helpers; splitting it would scatter one concern.
 */
import type { AttachmentOut, UserOut } from '../protocol';
import type { ApiError } from '../lib/api';
import {
  AckBatcher,
  addLocal,
  applyReaction,
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
} from '../lib/messages';
import { enc, errText, MAX_TEXT_CHARS, newer, REACTION_EMOJI, sortChannels, type CallRecord, type Channel, type ContactsDeps } from './model';
import { applyDelete, applyEdit, quoteOf } from './receipts';
import { ContactsStore } from './store';
import { saveMuted, toggleMuted } from './notify';

const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const PAGE_LIMIT = 200;

export abstract class ContactsMessaging extends ContactsStore {
  protected acks: AckBatcher;
  protected typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private typingOut: { channelId: string; sentAt: number; idle: ReturnType<typeof setTimeout> | null } | null = null;
  protected lastReadSent = new Map<string, number>();
  protected loadedChannels = new Set<string>();
  private outbox = new Map<string, { channelId: string; text: string; attachmentId?: string; replyTo?: string }>();
  private searchSeq = 0;
  private convSearchSeq = 0;
  /** Set after the first message I send (the moment to ask for notifications). */
  protected sentOne = false;

  constructor(deps: ContactsDeps = {}) {
    super(deps);
    this.acks = new AckBatcher((ids) => this.ackDelivered(ids));
  }

  /** Acknowledge delivery (the gateway's messages-delivered when up, else REST). */
  protected abstract ackDelivered(ids: string[]): Promise<unknown>;

  protected resetLocal(): void {
    this.loadedChannels.clear();
    this.lastReadSent.clear();
    this.outbox.clear();
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
    if (this.typingOut?.idle) clearTimeout(this.typingOut.idle);
    this.typingOut = null;
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

  channel(id: string | null): Channel | null {
    if (!id) return null;
    return this.state.channels.find((c) => c.id === id) ?? null;
  }

  /** The conversation is on screen (or null: none). Loads every page the first time. */
  openChannel(id: string | null): void {
    if (this.state.openChannelId !== id) {
      this.stopTyping();
      this.set({ openChannelId: id, convSearch: null });
    }
    if (!id) return;
    if (!this.loadedChannels.has(id)) void this.loadMessages(id, 0);
    else this.markRead(id);
  }

  protected async loadMessages(channelId: string, after: number): Promise<void> {
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

  protected mergeInto(channelId: string, incoming: Message[]): void {
    if (!incoming.length) return;
    const me = this.state.me?.id;
    for (const m of incoming) if (m.senderId !== me && !m.deliveredAt) this.acks.add(m.id);
    const list = mergeMessages(this.state.messages[channelId] ?? [], incoming);
    this.setList(channelId, this.afterMerge(channelId, list));
  }

  /** Re-apply what arrived before the messages it concerns (sync.ts: receipts). */
  protected afterMerge(_channelId: string, list: UiMessage[]): UiMessage[] {
    return list;
  }

  /** Replace a conversation's list and keep the channel's last message in step. */
  protected setList(channelId: string, list: UiMessage[]): void {
    const last = list.filter((m) => !isLocal(m)).at(-1) ?? null;
    const channels = this.state.channels.map((c) =>
      c.id === channelId && last && (!c.lastMessage || last.seq >= c.lastMessage.seq) ? { ...c, lastMessage: last } : c,
    );
    this.set({ messages: { ...this.state.messages, [channelId]: list }, channels: sortChannels(channels) });
  }

  protected upsertChannel(ch: Channel): void {
    const rest = this.state.channels.filter((c) => c.id !== ch.id);
    const old = this.state.channels.find((c) => c.id === ch.id);
    this.set({ channels: sortChannels([...rest, old ? { ...ch, lastMessage: newer(old.lastMessage, ch.lastMessage) } : ch]) });
  }

  /** POST /read with the newest seq shown (once per seq), and clear the badge — only while it is on screen. */
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

  /** The page became visible again (or hidden). */
  visibilityChanged(): void {
    const open = this.state.openChannelId;
    if (open) this.markRead(open);
  }

  toggleMute(channelId: string): void {
    const muted = toggleMuted(this.state.muted, channelId);
    saveMuted(this.storage(), muted);
    this.set({ muted });
  }

  // ------------------------------------------------------------ messages

  sendText(channelId: string, raw: string, replyTo?: string | null): boolean {
    const text = raw.trim().slice(0, MAX_TEXT_CHARS);
    if (!text) return false;
    this.stopTyping();
    this.queueSend(channelId, text, null, replyTo ?? undefined);
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

  private queueSend(channelId: string, text: string, att: AttachmentOut | null, replyTo?: string): void {
    const me = this.state.me;
    if (!me) return;
    const clientId = newClientId();
    const quoted = replyTo ? (this.state.messages[channelId] ?? []).find((m) => m.id === replyTo) : undefined;
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
      readAt: null,
      editedAt: null,
      deletedAt: null,
      replyTo: quoted ? quoteOf(quoted) : null,
      reactions: [],
      status: 'sending',
    };
    this.outbox.set(clientId, { channelId, text, ...(att ? { attachmentId: att.id } : {}), ...(quoted ? { replyTo: quoted.id } : {}) });
    this.set({ messages: { ...this.state.messages, [channelId]: addLocal(this.state.messages[channelId] ?? [], local) } });
    void this.post(clientId);
  }

  private async post(clientId: string, attempt = 0): Promise<void> {
    const o = this.outbox.get(clientId);
    if (!o) return;
    const seq = this.session;
    const body: Record<string, unknown> = { text: o.text, clientId };
    if (o.attachmentId) body.attachmentId = o.attachmentId;
    if (o.replyTo) body.replyTo = o.replyTo;
    try {
      const m = await this.auth.json<Message>('POST', `/api/channels/${enc(o.channelId)}/messages`, body);
      if (seq !== this.session) return;
      this.outbox.delete(clientId);
      this.mergeInto(o.channelId, [m]);
      if (!this.sentOne) {
        this.sentOne = true;
        void this.askNotifications();
      }
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

  /** Ask for notification permission (after the first sent message, or from settings). */
  async askNotifications(): Promise<void> {
    const p = await this.notifier.ask();
    this.set({ notifyPermission: p });
  }

  /** Edit one of my messages; true when the server took it. */
  async editMessage(messageId: string, raw: string): Promise<boolean> {
    const text = raw.trim().slice(0, MAX_TEXT_CHARS);
    const found = this.findMessage(messageId);
    if (!found || (!text && !found.m.attachment)) return false;
    try {
      const m = await this.auth.json<Message>('PATCH', `/api/messages/${enc(messageId)}`, { text });
      const list = this.state.messages[found.channelId] ?? [];
      this.setList(found.channelId, applyEdit(list, m));
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** Delete for everyone: a tombstone on every device. */
  async deleteMessage(messageId: string): Promise<void> {
    const found = this.findMessage(messageId);
    if (!found) return;
    try {
      await this.auth.json('DELETE', `/api/messages/${enc(messageId)}`);
      const list = this.state.messages[found.channelId] ?? [];
      this.setList(found.channelId, applyDelete(list, { messageId, deletedAt: new Date().toISOString() }));
    } catch (err) {
      this.fail(err);
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

  protected findMessage(id: string): { channelId: string; m: UiMessage } | null {
    for (const [channelId, list] of Object.entries(this.state.messages)) {
      const m = list.find((x) => x.id === id);
      if (m) return { channelId, m };
    }
    return null;
  }

  /** Search the conversation on the server (newest first); `more` fetches older matches. */
  async searchConversation(channelId: string, query: string, more = false): Promise<void> {
    const q = query.trim().slice(0, 100);
    const seq = ++this.convSearchSeq;
    if (!q) {
      this.set({ convSearch: null });
      return;
    }
    const prev = this.state.convSearch;
    const before = more && prev?.channelId === channelId && prev.query === q ? prev.nextBefore : null;
    if (more && before === null) return;
    this.set({ convSearch: { channelId, query: q, results: more && prev ? prev.results : [], busy: true, nextBefore: before } });
    try {
      const r = await this.auth.json<{ messages: Message[]; nextBefore: number | null }>(
        'GET',
        `/api/channels/${enc(channelId)}/messages/search?q=${enc(q)}&limit=20${before !== null ? `&before=${before}` : ''}`,
      );
      if (seq !== this.convSearchSeq) return;
      const results = [...(more && prev ? prev.results : []), ...(r.messages ?? [])];
      this.set({ convSearch: { channelId, query: q, results, busy: false, nextBefore: r.nextBefore ?? null } });
    } catch (err) {
      if (seq !== this.convSearchSeq) return;
      this.set({ convSearch: { channelId, query: q, results: [], busy: false, nextBefore: null } });
      this.fail(err);
    }
  }

  closeConversationSearch(): void {
    this.convSearchSeq++;
    this.set({ convSearch: null });
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

  protected stopTyping(): void {
    const t = this.typingOut;
    if (!t) return;
    if (t.idle) clearTimeout(t.idle);
    this.typingOut = null;
    this.gateway?.emit('channel-typing', { channelId: t.channelId, active: false });
  }

  protected clearTyping(channelId: string): void {
    const old = this.typingTimers.get(channelId);
    if (old) clearTimeout(old);
    this.typingTimers.delete(channelId);
    if (!(channelId in this.state.typing)) return;
    const typing = { ...this.state.typing };
    delete typing[channelId];
    this.set({ typing });
  }
}
