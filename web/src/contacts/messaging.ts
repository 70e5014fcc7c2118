/**
 * Controller part 3 of 6 — messages over REST: the outbox (optimistic sends,
 * the same clientId on retry, files), replies, edits, deletes, reactions and
 * search in a conversation. The conversation lists they edit are part 2,
 * conversations.ts.
 */
import type { AttachmentOut } from '../protocol';
import type { ApiError } from '../lib/api';
import {
  addLocal,
  applyReaction,
  dropLocal,
  hasReacted,
  isLocal,
  localId,
  markFailed,
  markSending,
  newClientId,
  type Message,
  type UiMessage,
} from '../lib/messages';
import { enc, failureAction, MAX_TEXT_CHARS, REACTION_EMOJI, sendFailure } from './model';
import { applyDelete, applyEdit, quoteOf } from './receipts';
import { ContactsConversations } from './conversations';

export abstract class ContactsMessaging extends ContactsConversations {
  private outbox = new Map<string, { channelId: string; text: string; attachmentId?: string; replyTo?: string }>();
  private convSearchSeq = 0;
  /** Set after the first message I send (the moment to ask for notifications). */
  protected sentOne = false;

  protected resetLocal(): void {
    super.resetLocal();
    this.outbox.clear();
  }

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
    const failed = (this.state.messages[o.channelId] ?? []).find((m) => m.clientId === clientId && m.status === 'failed');
    const peerBlocked = this.state.channels.some((c) => c.id === o.channelId && c.blocked);
    if (failed && failureAction(failed.failure, peerBlocked) !== 'retry') return; // cannot succeed
    this.set({ messages: { ...this.state.messages, [o.channelId]: markSending(this.state.messages[o.channelId] ?? [], clientId) } });
    void this.post(clientId);
  }

  /**
   * Give up on a message that failed: it leaves the conversation and the outbox. Only a
   * failed one: a message still sending may already be stored on the server, and
   * dropping my copy would hide it until the next sync.
   */
  discard(clientId: string): void {
    const o = this.outbox.get(clientId);
    if (!o) return;
    const list = this.state.messages[o.channelId] ?? [];
    if (!list.some((m) => m.clientId === clientId && m.status === 'failed')) return;
    this.outbox.delete(clientId);
    this.set({ messages: { ...this.state.messages, [o.channelId]: dropLocal(list, clientId) } });
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
      const failure = sendFailure(err);
      // The server says I blocked this person (on another device, say): show it as blocked
      // here too (banner, composer), and the message offers Unblock instead of a Retry.
      const channels =
        failure.reason === 'blocked_by_you'
          ? this.state.channels.map((c) => (c.id === o.channelId ? { ...c, blocked: true } : c))
          : this.state.channels;
      this.set({
        channels,
        messages: { ...this.state.messages, [o.channelId]: markFailed(this.state.messages[o.channelId] ?? [], clientId, failure) },
      });
      if (failure.reason === 'blocked_by_you') void this.refreshBlocks(); // the settings' blocked list
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
}
