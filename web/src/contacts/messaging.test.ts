/** Conversations and messages (conversations.ts, messaging.ts) and their live sync (sync.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ME, BOB, CH, res, message, flush, loggedIn, page } from './controllerHarness';

beforeEach(() => {
  page.visible = true;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('ContactsController messages', () => {
  it('adds pushed messages once, acks them in one batch and counts unread', async () => {
    const { c, ws, calls } = await loggedIn();
    ws.push('channel-message', message(1, BOB.id));
    ws.push('channel-message', message(2, BOB.id));
    ws.push('channel-message', message(1, BOB.id)); // duplicate
    expect(c.getState().messages[CH]!.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(c.getState().channels[0]!.unreadCount).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    const acks = calls.filter((x) => x.path === '/api/messages/delivered');
    expect(acks).toEqual([{ method: 'POST', path: '/api/messages/delivered', body: { ids: ['m1', 'm2'] } }]);
    // My own message from another device: shown, not acked, not unread.
    ws.push('channel-message', message(3, ME));
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.filter((x) => x.path === '/api/messages/delivered')).toHaveLength(1);
    expect(c.getState().channels[0]!.unreadCount).toBe(2);
  });

  it('opening a conversation loads every page and marks it read', async () => {
    const pages: Record<string, unknown> = {
      '0': { messages: [message(1, BOB.id), message(2, ME)], nextCursor: 2 },
      '2': { messages: [message(3, BOB.id)], nextCursor: null },
    };
    const { c, calls } = await loggedIn({
      [`GET /api/channels/${CH}/messages`]: () => res(200, pages[String(calls.at(-1)!.path.match(/after=(\d+)/)![1])]),
    });
    c.openChannel(CH);
    await flush();
    await flush();
    expect(c.getState().messages[CH]!.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(calls.find((x) => x.path === `/api/channels/${CH}/read`)?.body).toEqual({ seq: 3 });
  });

  it('sends with a clientId and reuses it on retry', async () => {
    let n = 0;
    const { c, calls } = await loggedIn({
      [`POST /api/channels/${CH}/messages`]: (body) => {
        n += 1;
        if (n === 1) return res(500, { error: { code: 'internal', message: 'oops' } });
        return res(201, message(7, ME, { clientId: body.clientId, text: body.text }));
      },
    });
    expect(c.sendText(CH, '  hello  ')).toBe(true);
    expect(c.getState().messages[CH]![0]).toMatchObject({ status: 'sending', text: 'hello' });
    await flush();
    await vi.advanceTimersByTimeAsync(1500);
    await flush();
    const posts = calls.filter((x) => x.path === `/api/channels/${CH}/messages` && x.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.body.clientId).toBe(posts[1]!.body.clientId);
    expect(c.getState().messages[CH]!.map((m) => [m.id, m.status])).toEqual([['m7', 'sent']]);
  });

  it('typing indicator hides after ttlMs; reactions from the gateway apply', async () => {
    const { c, ws } = await loggedIn();
    ws.push('channel-typing', { channelId: CH, userId: BOB.id, active: true, ttlMs: 5000 });
    expect(c.getState().typing[CH]).toBe(BOB.id);
    await vi.advanceTimersByTimeAsync(5100);
    expect(c.getState().typing[CH]).toBeUndefined();
    ws.push('channel-message', message(1, BOB.id));
    ws.push('message-reaction', { messageId: 'm1', channelId: CH, userId: BOB.id, emoji: '👍', action: 'added' });
    expect(c.getState().messages[CH]![0]!.reactions).toEqual([{ emoji: '👍', userIds: [BOB.id] }]);
  });
});

describe('messenger (issue 16)', () => {
  it('ticks go delivered → read live from message-receipt pushes', async () => {
    const { c, ws } = await loggedIn({
      ['GET /api/channels/' + CH + '/messages']: () => res(200, { messages: [message(1, ME), message(2, ME)], nextCursor: null }),
    });
    c.openChannel(CH);
    await flush();
    const ticks = () => (c.getState().messages[CH] ?? []).map((m) => (m.readAt ? 'read' : m.deliveredAt ? 'delivered' : 'sent'));
    expect(ticks()).toEqual(['sent', 'sent']);
    ws.push('message-receipt', { channelId: CH, userId: BOB.id, status: 'delivered', messageIds: ['m1', 'm2'], at: 'T1' });
    expect(ticks()).toEqual(['delivered', 'delivered']);
    ws.push('message-receipt', { channelId: CH, userId: BOB.id, status: 'read', upToSeq: 1, at: 'T2' });
    expect(ticks()).toEqual(['read', 'delivered']);
    // my own read on another device clears the badge, ticks nothing
    ws.push('message-receipt', { channelId: CH, userId: ME, status: 'read', upToSeq: 2, at: 'T3' });
    expect(ticks()).toEqual(['read', 'delivered']);
  });

  it('a receipt that overtakes our own POST answer still ticks the message', async () => {
    let answer: (r: Response) => void = () => undefined;
    const { c, ws } = await loggedIn({
      ['POST /api/channels/' + CH + '/messages']: () => new Promise<Response>((r) => (answer = r)),
    });
    c.openChannel(CH);
    await flush();
    c.sendText(CH, 'race');
    await flush();
    ws.push('message-receipt', { channelId: CH, userId: BOB.id, status: 'delivered', messageIds: ['m7'], at: 'T1' });
    answer(res(201, message(7, ME, { text: 'race' })));
    await flush();
    expect(c.getState().messages[CH]!.find((m) => m.id === 'm7')?.deliveredAt).toBe('T1');
  });

  it('marks read only while the conversation is visible', async () => {
    const { c, ws, calls } = await loggedIn();
    page.visible = false;
    c.openChannel(CH);
    await flush();
    ws.push('channel-message', message(3, BOB.id));
    await flush();
    const reads = () => calls.filter((x) => x.method === 'POST' && x.path.endsWith('/read'));
    expect(reads()).toHaveLength(0);
    expect(c.getState().channels[0]!.unreadCount).toBe(1);
    page.visible = true;
    c.visibilityChanged();
    await flush();
    expect(reads().map((x) => x.body)).toEqual([{ seq: 3 }]);
    expect(c.getState().channels[0]!.unreadCount).toBe(0);
  });

  it('channel-created, presence, edits and deletes land at once', async () => {
    const { c, ws } = await loggedIn({
      ['GET /api/channels/' + CH + '/messages']: () => res(200, { messages: [message(1, BOB.id)], nextCursor: null }),
    });
    c.openChannel(CH);
    await flush();
    const other = { id: 'd'.repeat(32), peer: { id: 'e'.repeat(32), displayName: 'Eve', avatarUrl: null }, createdAt: 'x', lastMessage: null, unreadCount: 0 };
    ws.push('channel-created', other);
    ws.push('channel-created', other);
    expect(c.getState().channels.filter((x) => x.id === other.id)).toHaveLength(1);
    ws.push('presence', { userId: BOB.id, online: true, lastSeenAt: 'L' });
    expect(c.getState().presence[BOB.id]).toEqual({ online: true, lastSeenAt: 'L' });
    ws.push('message-edited', { ...message(1, BOB.id), text: 'changed', editedAt: 'E' });
    expect(c.getState().messages[CH]![0]).toMatchObject({ text: 'changed', editedAt: 'E' });
    ws.push('message-deleted', { messageId: 'm1', channelId: CH, seq: 1, deletedAt: 'D' });
    expect(c.getState().messages[CH]![0]).toMatchObject({ text: '', deletedAt: 'D' });
  });

  it('a reply is sent with replyTo and shown with its quote at once', async () => {
    const { c, calls } = await loggedIn({
      ['GET /api/channels/' + CH + '/messages']: () => res(200, { messages: [message(1, BOB.id)], nextCursor: null }),
      ['POST /api/channels/' + CH + '/messages']: () => new Promise(() => undefined),
    });
    c.openChannel(CH);
    await flush();
    expect(c.sendText(CH, 'answer', 'm1')).toBe(true);
    const local = c.getState().messages[CH]!.at(-1)!;
    expect(local.replyTo).toMatchObject({ id: 'm1', senderId: BOB.id, text: 't1' });
    await flush();
    const post = calls.find((x) => x.method === 'POST' && x.path.endsWith('/messages'));
    expect(post?.body).toMatchObject({ text: 'answer', replyTo: 'm1' });
  });
});

describe('a refused message offers what can help, in the language in use', () => {
  const refusal = (status: number, code: string, reason?: string, params: Record<string, string | number> = {}) =>
    res(status, { error: { code, message: `english ${code}`, ...(reason ? { reason, params } : {}) } });
  const posts = (calls: Array<{ method: string; path: string }>) =>
    calls.filter((x) => x.method === 'POST' && x.path === `/api/channels/${CH}/messages`);

  it('blocked by them: the reason, no retry (retry() sends nothing), re-translated on a language switch', async () => {
    const { setLocale, getLocale } = await import('../i18n');
    const { errText, failureAction } = await import('./model');
    const before = getLocale();
    try {
      setLocale('en');
      const { c, calls } = await loggedIn({ [`POST /api/channels/${CH}/messages`]: () => refusal(403, 'blocked', 'blocked_by_them') });
      c.sendText(CH, 'hello?');
      await flush();
      const m = c.getState().messages[CH]![0]!;
      expect(m.status).toBe('failed');
      expect(m.failure).toEqual({ status: 403, code: 'blocked', reason: 'blocked_by_them', params: {}, message: 'english blocked' });
      expect(failureAction(m.failure, false)).toBe('none');
      expect(errText(m.failure)).toBe('This person does not accept messages or calls from you.');
      setLocale('de');
      expect(errText(c.getState().messages[CH]![0]!.failure)).toBe('Diese Person nimmt keine Nachrichten oder Anrufe von dir an.');
      c.retry(m.clientId!);
      await flush();
      expect(posts(calls)).toHaveLength(1);
      expect(c.getState().messages[CH]![0]!.status).toBe('failed');
    } finally {
      setLocale(before);
    }
  });

  it('a failed message can be removed; one still sending cannot', async () => {
    const held: { release?: () => void; refuse: boolean } = { refuse: false };
    const { c, calls } = await loggedIn({
      [`POST /api/channels/${CH}/messages`]: (body) =>
        held.refuse
          ? refusal(403, 'blocked', 'blocked_by_them')
          : new Promise<Response>((resolve) => {
              held.release = () => resolve(res(201, message(9, ME, { clientId: body.clientId, text: body.text })));
            }),
    });
    c.sendText(CH, 'first');
    await flush();
    const sending = c.getState().messages[CH]![0]!;
    expect(sending.status).toBe('sending');
    c.discard(sending.clientId!); // may already be stored: kept
    expect(c.getState().messages[CH]!.map((x) => x.status)).toEqual(['sending']);
    held.release!();
    await flush();
    expect(c.getState().messages[CH]!.map((x) => [x.id, x.status])).toEqual([['m9', 'sent']]);
    held.refuse = true;
    c.sendText(CH, 'second');
    await flush();
    const failed = c.getState().messages[CH]!.find((x) => x.status === 'failed')!;
    c.discard(failed.clientId!);
    expect(c.getState().messages[CH]!.map((x) => x.id)).toEqual(['m9']);
    c.retry(failed.clientId!); // gone from the outbox too: nothing sent
    await flush();
    expect(posts(calls)).toHaveLength(2);
  });

  it('blocked by me: Unblock, then Retry sends it', async () => {
    const { failureAction } = await import('./model');
    let blocked = true;
    const { c, calls } = await loggedIn({
      [`POST /api/channels/${CH}/messages`]: (body) =>
        blocked ? refusal(403, 'blocked', 'blocked_by_you') : res(201, message(9, ME, { clientId: body.clientId, text: body.text })),
      [`DELETE /api/users/${BOB.id}/block`]: () => {
        blocked = false;
        return res(204);
      },
    });
    expect(await c.block(BOB)).toBe(true);
    c.sendText(CH, 'sorry');
    await flush();
    const failed = c.getState().messages[CH]![0]!;
    expect(failureAction(failed.failure, true)).toBe('unblock');
    c.retry(failed.clientId!); // still blocked: nothing sent
    await flush();
    expect(posts(calls)).toHaveLength(1);
    expect(await c.unblock(BOB.id)).toBe(true);
    const peerBlocked = c.getState().channels.some((x) => x.id === CH && x.blocked);
    expect(failureAction(c.getState().messages[CH]![0]!.failure, peerBlocked)).toBe('retry');
    c.retry(failed.clientId!);
    await flush();
    expect(posts(calls)).toHaveLength(2);
    expect(c.getState().messages[CH]!.map((x) => [x.id, x.status])).toEqual([['m9', 'sent']]);
  });

  it('blocked by me on another device: this one learns it from the refusal and offers Unblock', async () => {
    const { failureAction } = await import('./model');
    const { c } = await loggedIn({
      [`POST /api/channels/${CH}/messages`]: () => refusal(403, 'blocked', 'blocked_by_you'),
      'GET /api/blocks': () => res(200, { blocks: [{ user: BOB, createdAt: '2025-01-02T00:00:00Z' }] }),
    });
    expect(c.getState().channels.find((x) => x.id === CH)?.blocked).toBeFalsy();
    c.sendText(CH, 'hi');
    await flush();
    const ch = c.getState().channels.find((x) => x.id === CH)!;
    expect(ch.blocked).toBe(true);
    expect(failureAction(c.getState().messages[CH]![0]!.failure, !!ch.blocked)).toBe('unblock');
    await flush();
    expect(c.getState().blocks.map((b) => b.user.id)).toEqual([BOB.id]); // the settings' list too
  });

  it('retry only where it can work: not for a gone conversation or an invalid message', async () => {
    const { failureAction, sendFailure } = await import('./model');
    const { ApiError } = await import('../lib/api');
    const gone = new ApiError(404, 'not_found', 'no such channel', undefined, undefined, { reason: 'channel_not_found' });
    expect(failureAction(sendFailure(gone), false)).toBe('none');
    expect(failureAction(sendFailure(new ApiError(400, 'invalid_request', 'bad')), false)).toBe('none');
    expect(failureAction(sendFailure(new ApiError(401, 'unauthorized', 'log in')), false)).toBe('none');
    expect(failureAction(sendFailure(new ApiError(429, 'rate_limited', 'slow down', 1000)), false)).toBe('retry');
    expect(failureAction(sendFailure(new ApiError(503, 'unavailable', 'down', 2000)), false)).toBe('retry');
    expect(failureAction(sendFailure(new ApiError(500, 'internal_error', 'oops')), false)).toBe('retry');
    expect(failureAction(sendFailure(new TypeError('Failed to fetch')), false)).toBe('retry'); // no answer
    // An old failure without a recorded one (or a blocked_by_you after unblocking) can be sent again.
    expect(failureAction(undefined, false)).toBe('retry');
  });

  it('a server error still retries by itself, then offers Retry', async () => {
    const { failureAction } = await import('./model');
    const { c, calls } = await loggedIn({ [`POST /api/channels/${CH}/messages`]: () => refusal(500, 'internal_error') });
    c.sendText(CH, 'hi');
    await flush();
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 100);
    await flush();
    expect(posts(calls)).toHaveLength(4);
    const m = c.getState().messages[CH]![0]!;
    expect(m.status).toBe('failed');
    expect(failureAction(m.failure, false)).toBe('retry');
    c.retry(m.clientId!);
    await flush();
    expect(posts(calls)).toHaveLength(5);
  });
});
