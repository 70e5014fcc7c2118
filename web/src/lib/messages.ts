/**
 * Pure helpers for the contacts message list: merge (dedupe by id, replace the
 * optimistic copy by clientId, order by seq), reactions, typing.
 */
import type { ChannelMessageOut, MessageReactionOut, ReactionSummary } from '../protocol';

export type Message = ChannelMessageOut;

/** A message in the UI: a server message, or an optimistic local one still being sent. */
export interface UiMessage extends Message {
  /** 'sent' for server messages; local ones are 'sending' until the POST answers, 'failed' after an error. */
  status: 'sent' | 'sending' | 'failed';
  /** Why a send failed, as the server said it (translated when shown, so a language
   * switch re-translates it; what the user can do about it depends on it too). */
  failure?: SendFailure;
}

/** A refused or failed send: the HTTP status (0: no answer) and the error's code, reason and params. */
export interface SendFailure {
  status: number;
  code?: string;
  reason?: string;
  params?: Record<string, string | number>;
  /** The server's English message: the fallback for a code this app does not know. */
  message?: string;
}

/** Id of the optimistic copy of a message that has no server id yet. */
export const localId = (clientId: string) => `local:${clientId}`;

export function isLocal(m: { id: string }): boolean {
  return m.id.startsWith('local:');
}

function order(a: UiMessage, b: UiMessage): number {
  // Local (unsent) messages go last, in creation order.
  const la = isLocal(a);
  const lb = isLocal(b);
  if (la !== lb) return la ? 1 : -1;
  if (la && lb) return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Merge server messages into a list: one entry per id (the newer copy wins, so
 * deliveredAt/reactions updates land), the optimistic copy with the same
 * clientId is replaced, and the result is ordered by seq.
 */
export function mergeMessages(list: readonly UiMessage[], incoming: readonly Message[]): UiMessage[] {
  if (!incoming.length) return list as UiMessage[];
  const byId = new Map<string, UiMessage>();
  for (const m of list) byId.set(m.id, m);
  for (const m of incoming) {
    if (!m || typeof m.id !== 'string') continue;
    if (m.clientId) byId.delete(localId(m.clientId));
    byId.set(m.id, { ...m, reactions: m.reactions ?? [], status: 'sent' });
  }
  return [...byId.values()].sort(order);
}

/** Add (or replace) an optimistic local message. */
export function addLocal(list: readonly UiMessage[], m: UiMessage): UiMessage[] {
  // If the server copy already arrived (e.g. via the gateway), keep only that one.
  if (list.some((x) => !isLocal(x) && x.clientId === m.clientId && x.channelId === m.channelId)) return list as UiMessage[];
  return [...list.filter((x) => x.id !== m.id), m].sort(order);
}

export function markFailed(list: readonly UiMessage[], clientId: string, failure: SendFailure): UiMessage[] {
  return list.map((m) => (m.id === localId(clientId) ? { ...m, status: 'failed' as const, failure } : m));
}

/** The list without my unsent copy of ``clientId`` (a failed send the user gave up on). */
export function dropLocal(list: readonly UiMessage[], clientId: string): UiMessage[] {
  return list.filter((m) => m.id !== localId(clientId));
}

export function markSending(list: readonly UiMessage[], clientId: string): UiMessage[] {
  return list.map((m) => (m.id === localId(clientId) ? { ...m, status: 'sending' as const, failure: undefined } : m));
}

/** Highest server seq in the list (0 when none). */
export function maxSeq(list: readonly Message[]): number {
  let s = 0;
  for (const m of list) if (!isLocal(m) && m.seq > s) s = m.seq;
  return s;
}

/** Add/remove one user's reaction (idempotent). Emojis without users disappear. */
export function applyReaction(
  reactions: readonly ReactionSummary[],
  emoji: string,
  userId: string,
  action: 'added' | 'removed',
): ReactionSummary[] {
  const out: ReactionSummary[] = [];
  let found = false;
  for (const r of reactions) {
    if (r.emoji !== emoji) {
      out.push(r);
      continue;
    }
    found = true;
    const has = r.userIds.includes(userId);
    let userIds = r.userIds;
    if (action === 'added' && !has) userIds = [...r.userIds, userId];
    if (action === 'removed' && has) userIds = r.userIds.filter((u) => u !== userId);
    if (userIds.length) out.push({ emoji, userIds });
  }
  if (!found && action === 'added') out.push({ emoji, userIds: [userId] });
  return out;
}

/** Apply a message-reaction event to a list (no-op for unknown messages). */
export function applyReactionEvent(list: readonly UiMessage[], e: MessageReactionOut): UiMessage[] {
  let changed = false;
  const out = list.map((m) => {
    if (m.id !== e.messageId) return m;
    changed = true;
    return { ...m, reactions: applyReaction(m.reactions, e.emoji, e.userId, e.action) };
  });
  return changed ? out : (list as UiMessage[]);
}

export function hasReacted(m: Pick<Message, 'reactions'>, emoji: string, userId: string): boolean {
  return m.reactions.some((r) => r.emoji === emoji && r.userIds.includes(userId));
}

/** A random clientId (the server accepts [A-Za-z0-9_-]{1,64}). */
export function newClientId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID().replace(/-/g, '');
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

/** Collects message ids and flushes them in one batch after a short delay. */
export class AckBatcher {
  private ids = new Set<string>();
  private timer: unknown = null;

  constructor(
    private readonly flushFn: (ids: string[]) => Promise<unknown>,
    private readonly delayMs = 50,
    private readonly setT: (fn: () => void, ms: number) => unknown = (fn, ms) => setTimeout(fn, ms),
  ) {}

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.timer === null) this.timer = this.setT(() => void this.flush(), this.delayMs);
  }

  async flush(): Promise<void> {
    this.timer = null;
    const ids = [...this.ids].slice(0, 500);
    for (const id of ids) this.ids.delete(id);
    if (!ids.length) return;
    try {
      await this.flushFn(ids);
    } catch (err) {
      const status = (err as { status?: number })?.status ?? 0;
      if (status >= 400 && status < 500 && status !== 429) return; // refused for good
      // The server pushes the backlog again after the next hello; retry later anyway.
      for (const id of ids) this.ids.add(id);
      if (this.timer === null) this.timer = this.setT(() => void this.flush(), 5000);
      return;
    }
    if (this.ids.size && this.timer === null) this.timer = this.setT(() => void this.flush(), 0);
  }
}
