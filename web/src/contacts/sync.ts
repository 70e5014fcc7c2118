/**
 * Controller part 4 of 6 — live sync over the gateway: the socket's life
 * (welcome, reconnect catch-up), incoming messages, typing, reactions, receipts
 * (ticks), presence, edits, deletes, new channels, and the attention they call
 * for while the tab is hidden (title count, notifications).
 */
import { GatewayClient, defaultGatewayUrl, type ClosedInfo, type WelcomeData } from '../gateway/client';
import type {
  ChannelCreatedOut,
  ChannelMessageOut,
  ChannelTypingOut,
  ErrorOut,
  MessageDeletedOut,
  MessageEditedOut,
  MessageReactionOut,
  MessageReceiptOut,
  PresenceOut,
} from '../protocol';
import { ApiError } from '../lib/api';
import { applyReactionEvent, maxSeq, type UiMessage } from '../lib/messages';
import { t } from '../i18n';
import { ContactsMessaging } from './messaging';
import { sendFailure, type Channel, type ContactsState, type PresenceInfo } from './model';
import { setFaviconBadge, shouldNotify, totalUnread, unreadTitle } from './notify';
import { applyDelete, applyEdit, applyReceipt } from './receipts';

export abstract class ContactsSync extends ContactsMessaging {
  protected gatewayOff: Array<() => void> = [];
  private readyWaiters: Array<() => void> = [];
  private baseTitle: string | null = null;
  /**
   * Receipts remembered per channel: a receipt can overtake the message it is
   * about (the recipient acks the push before our own POST has answered), so
   * they are applied again whenever messages are merged.
   */
  private receipts = new Map<string, { read: MessageReceiptOut | null; delivered: MessageReceiptOut[] }>();

  /** Subscribe the call events (calls.ts). */
  protected abstract bindCalls(g: GatewayClient): void;
  /** The socket came back (or not) — the call part decides what it means for a call. */
  protected abstract callsOnWelcome(resumed: boolean): void;
  protected abstract callsOnLost(reconnecting: boolean | null): void;

  protected afterLogin(): void {
    this.connectGateway();
    void this.refreshChannels();
    void this.refreshHistory();
    void this.refreshBlocks();
    void this.refreshPresence();
    void this.refreshPresenceVisibility();
  }

  protected ackDelivered(ids: string[]): Promise<unknown> {
    return this.auth.json('POST', '/api/messages/delivered', { ids });
  }

  protected set(patch: Partial<ContactsState>): void {
    super.set(patch);
    if ('channels' in patch || 'muted' in patch) this.updateTitle();
  }

  /** The unread count (muted conversations left out) in the document title. */
  private updateTitle(): void {
    if (typeof document === 'undefined') return;
    this.baseTitle ??= document.title.replace(/^\(\d+\+?\)\s*/, '');
    const n = this.state.auth === 'loggedIn' ? totalUnread(this.state.channels, this.state.muted) : 0;
    const next = unreadTitle(this.baseTitle, n);
    if (document.title !== next) {
      document.title = next;
      setFaviconBadge(n);
    }
  }

  async refreshPresence(): Promise<void> {
    const seq = this.session;
    try {
      const r = await this.auth.json<{ presence: PresenceOut[] }>('GET', '/api/presence');
      if (seq !== this.session) return;
      const presence: Record<string, PresenceInfo> = {};
      for (const p of r.presence ?? []) presence[p.userId] = { online: !!p.online, lastSeenAt: p.lastSeenAt ?? null };
      this.set({ presence });
    } catch {
      /* presence stays unknown (nothing shown) */
    }
  }

  // ------------------------------------------------------------ gateway

  protected connectGateway(): void {
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
        this.callsOnLost(true);
      }),
    );
    off.push(g.on('closed', (c: ClosedInfo) => this.onClosed(c)));
    off.push(g.on('channel-message', (m: ChannelMessageOut) => this.onChannelMessage(m)));
    off.push(g.on('channel-typing', (x: ChannelTypingOut) => this.onChannelTyping(x)));
    off.push(g.on('message-reaction', (r: MessageReactionOut) => this.onReaction(r)));
    off.push(g.on('message-receipt', (r: MessageReceiptOut) => this.onReceipt(r)));
    off.push(g.on('message-edited', (m: MessageEditedOut) => this.onEdited(m)));
    off.push(g.on('message-deleted', (d: MessageDeletedOut) => this.onDeleted(d)));
    off.push(g.on('channel-created', (c: ChannelCreatedOut) => this.onChannelCreated(c)));
    off.push(g.on('presence', (p: PresenceOut) => this.onPresence(p)));
    this.bindCalls(g);
    off.push(
      // The event's data carries reason and params beside code: errText says why.
      g.on('error', (e: ErrorOut) => {
        if (e?.message || e?.code) this.set({ error: sendFailure(e) });
      }),
    );
    this.set({ gateway: 'connecting' });
    g.connect();
  }

  protected teardownGateway(): void {
    for (const f of this.gatewayOff) f();
    this.gatewayOff = [];
    this.gateway?.close();
    this.gateway = null;
    this.readyWaiters = [];
    this.set({ gateway: 'offline' });
    this.updateTitle();
  }

  private onWelcome(w: WelcomeData): void {
    const wasReconnecting = this.state.gateway === 'reconnecting';
    this.set({ gateway: 'ready' });
    this.callsOnLost(false);
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const f of waiters) f();
    this.callsOnWelcome(!!w.resumed);
    void this.refreshPresence();
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
    this.callsOnLost(null);
  }

  /** The gateway connection id, waiting (up to 10 s) for the welcome. */
  protected async connectionId(): Promise<string> {
    const g = this.gateway;
    if (!g) throw new ApiError(0, 'offline', t('messenger.notConnected'));
    if (g.ready && g.connectionId) return g.connectionId;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ApiError(0, 'offline', t('messenger.notConnected'))), 10_000);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (!this.gateway?.connectionId) throw new ApiError(0, 'offline', t('messenger.notConnected'));
    return this.gateway.connectionId;
  }

  // ------------------------------------------------------------ pushes

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
      if (m.senderId !== me) this.notifyMessage(m, null);
      return;
    }
    const isNew = !known && (!ch.lastMessage || m.seq > ch.lastMessage.seq);
    this.mergeInto(m.channelId, [m]);
    if (m.senderId !== me) {
      this.acks.add(m.id);
      this.clearTyping(m.channelId);
      const reading = this.state.openChannelId === m.channelId && this.visible();
      if (isNew && !reading) {
        this.set({
          channels: this.state.channels.map((c) => (c.id === m.channelId ? { ...c, unreadCount: c.unreadCount + 1 } : c)),
        });
      }
      if (isNew) this.notifyMessage(m, ch);
      if (this.state.openChannelId === m.channelId) this.markRead(m.channelId);
    }
  }

  private notifyMessage(m: ChannelMessageOut, ch: Channel | null): void {
    const reading = this.state.openChannelId === m.channelId && this.visible();
    const ok = shouldNotify({
      kind: 'message',
      hidden: !this.visible(),
      permission: this.state.notifyPermission,
      muted: this.state.muted.includes(m.channelId),
      fromMe: m.senderId === this.state.me?.id,
      reading,
    });
    if (!ok) return;
    const who = ch?.peer.displayName ?? t('messenger.someone');
    const body = m.text ? m.text.slice(0, 140) : m.attachment ? `${t('messenger.attachmentIcon')}: ${m.attachment.filename}` : '';
    this.notifier.show(`msg:${m.channelId}`, t('messenger.notifyMessage', { name: who }), body, () => {
      location.hash = `#/contacts/c/${m.channelId}`;
    });
  }

  private onChannelTyping(x: ChannelTypingOut): void {
    if (!x || x.userId === this.state.me?.id) return;
    if (x.active) {
      const old = this.typingTimers.get(x.channelId);
      if (old) clearTimeout(old);
      const ttl = typeof x.ttlMs === 'number' && x.ttlMs > 0 ? x.ttlMs : 6000;
      this.typingTimers.set(
        x.channelId,
        setTimeout(() => this.clearTyping(x.channelId), ttl),
      );
      if (this.state.typing[x.channelId] !== x.userId) this.set({ typing: { ...this.state.typing, [x.channelId]: x.userId } });
    } else {
      this.clearTyping(x.channelId);
    }
  }

  private onReaction(r: MessageReactionOut): void {
    if (!r || typeof r.messageId !== 'string') return;
    const list = this.state.messages[r.channelId];
    if (!list) return;
    const next = applyReactionEvent(list, r);
    if (next !== list) this.set({ messages: { ...this.state.messages, [r.channelId]: next } });
  }

  protected afterMerge(channelId: string, list: UiMessage[]): UiMessage[] {
    const memo = this.receipts.get(channelId);
    if (!memo) return list;
    let out = list;
    for (const r of memo.delivered) out = applyReceipt(out, r);
    if (memo.read) out = applyReceipt(out, memo.read);
    return out;
  }

  private remember(r: MessageReceiptOut): void {
    const memo = this.receipts.get(r.channelId) ?? { read: null, delivered: [] };
    if (r.status === 'read') {
      if (!memo.read || (r.upToSeq ?? 0) > (memo.read.upToSeq ?? 0)) memo.read = r;
    } else {
      memo.delivered.push(r);
      if (memo.delivered.length > 50) memo.delivered.shift();
    }
    this.receipts.set(r.channelId, memo);
  }

  protected resetLocal(): void {
    super.resetLocal();
    this.receipts.clear();
  }

  private onReceipt(r: MessageReceiptOut): void {
    if (!r || typeof r.channelId !== 'string') return;
    const me = this.state.me?.id;
    if (r.userId === me && r.status === 'read') {
      // Read on another of my devices: clear the badge here too.
      this.set({ channels: this.state.channels.map((c) => (c.id === r.channelId ? { ...c, unreadCount: 0 } : c)) });
      return;
    }
    this.remember(r);
    const list = this.state.messages[r.channelId];
    if (list) {
      const next = applyReceipt(list, r);
      if (next !== list) this.setList(r.channelId, next);
    }
    // The conversation list's last message shows ticks too.
    const ch = this.channel(r.channelId);
    const last = ch?.lastMessage;
    if (ch && last && !list) {
      const [updated] = applyReceipt([{ ...last, status: 'sent' }], r);
      if (updated && updated !== last) {
        this.set({ channels: this.state.channels.map((c) => (c.id === ch.id ? { ...c, lastMessage: updated } : c)) });
      }
    }
  }

  private onEdited(m: MessageEditedOut): void {
    if (!m || typeof m.id !== 'string') return;
    const list = this.state.messages[m.channelId];
    if (list) this.setList(m.channelId, applyEdit(list, m));
    else this.set({ channels: this.state.channels.map((c) => (c.lastMessage?.id === m.id ? { ...c, lastMessage: m } : c)) });
  }

  private onDeleted(d: MessageDeletedOut): void {
    if (!d || typeof d.messageId !== 'string') return;
    const list = this.state.messages[d.channelId];
    if (list) this.setList(d.channelId, applyDelete(list, d));
    else
      this.set({
        channels: this.state.channels.map((c) =>
          c.lastMessage?.id === d.messageId ? { ...c, lastMessage: { ...c.lastMessage, text: '', attachment: null, deletedAt: d.deletedAt } } : c,
        ),
      });
  }

  private onChannelCreated(c: ChannelCreatedOut): void {
    if (!c || typeof c.id !== 'string' || !c.peer) return;
    if (this.channel(c.id)) return;
    this.upsertChannel(c as Channel);
    void this.refreshPresence();
  }

  private onPresence(p: PresenceOut): void {
    if (!p || typeof p.userId !== 'string') return;
    this.set({ presence: { ...this.state.presence, [p.userId]: { online: !!p.online, lastSeenAt: p.lastSeenAt ?? null } } });
  }
}
