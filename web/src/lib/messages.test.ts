import { describe, expect, it, vi } from 'vitest';
import {
  AckBatcher,
  addLocal,
  applyReaction,
  applyReactionEvent,
  localId,
  markFailed,
  markSending,
  maxSeq,
  mergeMessages,
  type Message,
  type UiMessage,
} from './messages';

const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  channelId: 'c1',
  seq,
  senderId: 'u1',
  text: `hello ${seq}`,
  attachment: null,
  clientId: `cid${seq}`,
  createdAt: `2025-01-01T00:00:${String(seq).padStart(2, '0')}Z`,
  deliveredAt: null,
  reactions: [],
  ...extra,
});

const local = (clientId: string, text = 'hi'): UiMessage => ({
  ...msg(0, { id: localId(clientId), clientId, text, createdAt: '2025-01-01T00:01:00Z' }),
  status: 'sending',
});

describe('mergeMessages', () => {
  it('dedupes by id and orders by seq', () => {
    const a = mergeMessages([], [msg(3), msg(1)]);
    const b = mergeMessages(a, [msg(2), msg(3), msg(1)]);
    expect(b.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('the newer copy of a message wins (deliveredAt, reactions)', () => {
    const a = mergeMessages([], [msg(1)]);
    const b = mergeMessages(a, [msg(1, { deliveredAt: '2025-01-01T00:00:05Z' })]);
    expect(b).toHaveLength(1);
    expect(b[0]!.deliveredAt).toBe('2025-01-01T00:00:05Z');
  });

  it('replaces the optimistic copy by clientId and keeps unsent ones last', () => {
    let list = mergeMessages([], [msg(1)]);
    list = addLocal(list, local('x1', 'first'));
    list = addLocal(list, local('x2', 'second'));
    expect(list.map((m) => m.id)).toEqual(['m1', 'local:x1', 'local:x2']);
    list = mergeMessages(list, [msg(2, { clientId: 'x1', text: 'first' })]);
    expect(list.map((m) => m.id)).toEqual(['m1', 'm2', 'local:x2']);
    expect(list[1]!.status).toBe('sent');
    expect(maxSeq(list)).toBe(2);
  });

  it('does not add an optimistic copy once the server copy is there', () => {
    const list = mergeMessages([], [msg(5, { clientId: 'x9' })]);
    expect(addLocal(list, local('x9'))).toHaveLength(1);
  });

  it('marks a failed send', () => {
    const failure = { status: 403, code: 'blocked', reason: 'blocked_by_them', params: {} };
    const list = markFailed(addLocal([], local('x1')), 'x1', failure);
    expect(list[0]).toMatchObject({ status: 'failed', failure });
    expect(markSending(list, 'x1')[0]).toMatchObject({ status: 'sending', failure: undefined });
  });
});

describe('reactions', () => {
  it('adds and removes idempotently', () => {
    let r = applyReaction([], '👍', 'u1', 'added');
    r = applyReaction(r, '👍', 'u1', 'added');
    r = applyReaction(r, '👍', 'u2', 'added');
    expect(r).toEqual([{ emoji: '👍', userIds: ['u1', 'u2'] }]);
    r = applyReaction(r, '👍', 'u1', 'removed');
    r = applyReaction(r, '👍', 'u1', 'removed');
    expect(r).toEqual([{ emoji: '👍', userIds: ['u2'] }]);
    expect(applyReaction(r, '👍', 'u2', 'removed')).toEqual([]);
  });

  it('applies a message-reaction event to the right message only', () => {
    const list = mergeMessages([], [msg(1), msg(2)]);
    const out = applyReactionEvent(list, { messageId: 'm2', channelId: 'c1', userId: 'u9', emoji: '👍', action: 'added' });
    expect(out[0]!.reactions).toEqual([]);
    expect(out[1]!.reactions).toEqual([{ emoji: '👍', userIds: ['u9'] }]);
    expect(applyReactionEvent(list, { messageId: 'nope', channelId: 'c1', userId: 'u9', emoji: '👍', action: 'added' })).toBe(list);
  });
});

describe('AckBatcher', () => {
  it('batches ids into one request and dedupes', async () => {
    vi.useFakeTimers();
    const sent: string[][] = [];
    const b = new AckBatcher(async (ids) => sent.push(ids), 50);
    b.add('a');
    b.add('b');
    b.add('a');
    await vi.advanceTimersByTimeAsync(60);
    expect(sent).toEqual([['a', 'b']]);
    vi.useRealTimers();
  });

  it('retries after a transient failure, drops on a 4xx', async () => {
    vi.useFakeTimers();
    let fail: number | null = 0;
    const sent: string[][] = [];
    const b = new AckBatcher(async (ids) => {
      if (fail !== null) throw Object.assign(new Error('x'), { status: fail });
      sent.push(ids);
    }, 10);
    b.add('a');
    await vi.advanceTimersByTimeAsync(20);
    fail = null;
    await vi.advanceTimersByTimeAsync(6000);
    expect(sent).toEqual([['a']]);
    fail = 400;
    b.add('b');
    await vi.advanceTimersByTimeAsync(20);
    fail = null;
    await vi.advanceTimersByTimeAsync(6000);
    expect(sent).toEqual([['a']]);
    vi.useRealTimers();
  });
});
