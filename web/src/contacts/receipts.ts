/**
 * Pure message-list updates for the messenger pushes: receipts (delivered /
 * read ticks), edits, tombstones and reply quotes. Kept apart from the store so
 * the rules (only my own messages get ticks; read implies delivered; a tombstone
 * drops text, attachment and reactions) are unit-tested without a browser.
 */
import type { MessageDeletedOut, MessageReceiptOut, ReplyQuote } from '../protocol';
import { isLocal, type Message, type UiMessage } from '../lib/messages';

/** What the ticks under one of my messages show. */
export type Tick = 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

export function tickOf(m: Pick<UiMessage, 'status' | 'deliveredAt' | 'readAt'>): Tick {
  if (m.status === 'sending') return 'sending';
  if (m.status === 'failed') return 'failed';
  if (m.readAt) return 'read';
  if (m.deliveredAt) return 'delivered';
  return 'sent';
}

/**
 * Apply a `message-receipt` to one conversation's list. Receipts concern the
 * messages of the *other* member than the reader: `delivered` names ids,
 * `read` covers every message with `seq ≤ upToSeq` (and implies delivered).
 * Returns the same array when nothing changed (cheap re-render check).
 */
export function applyReceipt(list: readonly UiMessage[], r: MessageReceiptOut): UiMessage[] {
  if (!r || (r.status !== 'delivered' && r.status !== 'read')) return list as UiMessage[];
  let changed = false;
  const ids = r.status === 'delivered' ? new Set(r.messageIds ?? []) : null;
  const upTo = typeof r.upToSeq === 'number' ? r.upToSeq : -1;
  const out = list.map((m) => {
    if (isLocal(m) || m.senderId === r.userId || m.deletedAt) return m;
    if (ids) {
      if (!ids.has(m.id) || m.deliveredAt) return m;
      changed = true;
      return { ...m, deliveredAt: r.at };
    }
    if (m.seq > upTo || m.readAt) return m;
    changed = true;
    return { ...m, readAt: r.at, deliveredAt: m.deliveredAt ?? r.at };
  });
  return changed ? out : (list as UiMessage[]);
}

/** A `message-edited` (the whole message): replace it, keeping nothing stale. */
export function applyEdit(list: readonly UiMessage[], m: Message): UiMessage[] {
  let changed = false;
  const out = list.map((x) => {
    if (x.id !== m.id) return x;
    changed = true;
    return { ...x, ...m, reactions: m.reactions ?? x.reactions, status: 'sent' as const };
  });
  return changed ? out : (list as UiMessage[]);
}

/** A `message-deleted`: the message becomes a tombstone (and quotes of it say so). */
export function applyDelete(list: readonly UiMessage[], e: Pick<MessageDeletedOut, 'messageId' | 'deletedAt'>): UiMessage[] {
  let changed = false;
  const out = list.map((x) => {
    if (x.id === e.messageId) {
      if (x.deletedAt) return x;
      changed = true;
      return { ...x, text: '', attachment: null, reactions: [], deletedAt: e.deletedAt };
    }
    if (x.replyTo && x.replyTo.id === e.messageId && !x.replyTo.deleted) {
      changed = true;
      return { ...x, replyTo: { ...x.replyTo, text: '', deleted: true } };
    }
    return x;
  });
  return changed ? out : (list as UiMessage[]);
}

/** The quote shown on an optimistic reply (the server sends the same shape back). */
export function quoteOf(m: Pick<Message, 'id' | 'senderId' | 'text' | 'attachment' | 'deletedAt'>): ReplyQuote {
  const deleted = !!m.deletedAt;
  return { id: m.id, senderId: m.senderId, text: deleted ? '' : m.text.slice(0, 200), hasAttachment: !!m.attachment, deleted };
}

/** A message that can be edited by `meId` now (own, sent, not deleted, within the window). */
export function canEdit(m: UiMessage, meId: string, now: number, windowS = 900): boolean {
  if (m.senderId !== meId || m.status !== 'sent' || m.deletedAt) return false;
  const at = Date.parse(m.createdAt);
  return Number.isFinite(at) && now - at < windowS * 1000;
}
