/**
 * Controller part 2 of 6 — conversations over REST: the channel list, people
 * search, opening a conversation and loading its pages, merging messages into
 * the per-channel lists (the helpers messaging.ts and sync.ts edit them
 * through), read marks (only while the conversation is on screen), muting,
 * and typing both ways.
 */
import type { UserOut } from '../protocol';
import { AckBatcher, isLocal, maxSeq, mergeMessages, type Message, type UiMessage } from '../lib/messages';
import { enc, newer, sortChannels, type CallRecord, type Channel, type ContactsDeps } from './model';
import { ContactsStore } from './store';
import { saveMuted, toggleMuted } from './notify';

const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const PAGE_LIMIT = 200;

export abstract class ContactsConversations extends ContactsStore {
  protected acks: AckBatcher;
  protected typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private typingOut: { channelId: string; sentAt: number; idle: ReturnType<typeof setTimeout> | null } | null = null;
  protected lastReadSent = new Map<string, number>();
  protected loadedChannels = new Set<string>();
  private searchSeq = 0;

  constructor(deps: ContactsDeps = {}) {
    super(deps);
    this.acks = new AckBatcher((ids) => this.ackDelivered(ids));
  }

  /** Acknowledge delivery (the gateway's messages-delivered when up, else REST). */
  protected abstract ackDelivered(ids: string[]): Promise<unknown>;

  protected resetLocal(): void {
    this.loadedChannels.clear();
    this.lastReadSent.clear();
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
    if (this.typingOut?.idle) clearTimeout(this.typingOut.idle);
    this.typingOut = null;
  }

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
