import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../gateway/fakeSocket';
import { AuthStore } from './auth';
import { ContactsController } from './contacts';

class FakePC {
  static last: FakePC | null = null;
  signalingState = 'stable';
  connectionState = 'new';
  iceConnectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  onicecandidate: any = null;
  ontrack: any = null;
  onconnectionstatechange: any = null;
  closed = false;
  constructor(public config: unknown) {
    FakePC.last = this;
  }
  addTrack() {}
  addTransceiver() {}
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer' };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0 answer' };
  }
  async setLocalDescription(d: any) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: any) {
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate() {}
  async getStats() {
    return new Map();
  }
  close() {
    this.closed = true;
  }
}

const ME = 'a'.repeat(32);
const BOB = { id: 'b'.repeat(32), displayName: 'Bob', avatarUrl: null };
const CH = 'c'.repeat(32);

const res = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const message = (seq: number, senderId: string, extra: Record<string, unknown> = {}) => ({
  id: `m${seq}`,
  channelId: CH,
  seq,
  senderId,
  text: `t${seq}`,
  attachment: null,
  clientId: `k${seq}`,
  createdAt: `2025-01-01T00:00:0${seq}Z`,
  deliveredAt: null,
  reactions: [],
  ...extra,
});

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function setup(routes: Record<string, (body: any) => Response | Promise<Response>> = {}) {
  const calls: Array<{ method: string; path: string; body: any }> = [];
  const fetchImpl = vi.fn(async (path: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : init.body;
    calls.push({ method, path, body });
    const key = `${method} ${path.split('?')[0]}`;
    const h = routes[key];
    if (h) return h(body);
    if (key === 'POST /api/auth/login') return res(200, { accessToken: 'A1', refreshToken: 'R1', expiresIn: 900 });
    if (key === 'GET /api/auth/me') return res(200, { id: ME, email: 'me@x.io', displayName: 'Me', role: 'user', createdAt: '2025-01-01T00:00:00Z' });
    if (key === 'GET /api/channels')
      return res(200, { channels: [{ id: CH, peer: BOB, createdAt: '2025-01-01T00:00:00Z', lastMessage: null, unreadCount: 0 }] });
    if (key === 'GET /api/calls') return res(200, { calls: [] });
    if (key === 'GET /api/users') return res(200, { users: [] });
    if (key === 'POST /api/messages/delivered') return res(200, { acknowledged: body.ids.length });
    return res(204);
  });
  const auth = new AuthStore({ fetchImpl: fetchImpl as unknown as typeof fetch, storage: null, locks: null });
  const c = new ContactsController({
    auth,
    WebSocketImpl: FakeSocket,
    gatewayUrl: () => 'ws://x/ws',
    getUserMedia: async () => null as unknown as MediaStream,
    PeerConnectionImpl: FakePC as unknown as typeof RTCPeerConnection,
    isVisible: () => visible,
    createObjectURL: () => 'blob:x',
  });
  return { c, calls, fetchImpl };
}

async function loggedIn(routes?: Record<string, (body: any) => Response | Promise<Response>>) {
  const t = setup(routes);
  await t.c.login('me@x.io', 'correct horse');
  await flush();
  const ws = FakeSocket.last!;
  ws.open();
  ws.push('welcome', { connectionId: 'conn1', resumeToken: 'r', heartbeatMs: 0, resumed: false });
  await flush();
  return { ...t, ws };
}

let visible = true;
beforeEach(() => {
  visible = true;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('ContactsController', () => {
  it('logs in and says hello with the access token', async () => {
    const { c, ws } = await loggedIn();
    expect(c.getState()).toMatchObject({ auth: 'loggedIn', gateway: 'ready' });
    expect(c.getState().me?.displayName).toBe('Me');
    expect(ws.sent[0]).toEqual({ event: 'hello', data: { token: 'A1' } });
    expect(c.getState().channels).toHaveLength(1);
  });

  it('shows a failed login by its error code, in the UI language', async () => {
    const { c } = setup({
      'POST /api/auth/login': () => res(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password' } }),
    });
    await c.login('me@x.io', 'nope');
    expect(c.getState()).toMatchObject({ auth: 'checking', authError: 'Wrong email or password.' }); // said by its code
  });

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

  it('places a call with the connection id, becomes initiator on call-accepted and hangs up', async () => {
    vi.stubGlobal('window', {});
    const { c, ws, calls } = await loggedIn({
      'POST /api/calls': () => res(201, { callId: 'call1', status: 'ringing' }),
    });
    await c.placeCall(BOB, 'video');
    await flush();
    expect(calls.find((x) => x.path === '/api/calls' && x.method === 'POST')?.body).toEqual({
      calleeId: BOB.id,
      media: 'video',
      connectionId: 'conn1',
    });
    expect(c.getState().call).toMatchObject({ phase: 'outgoing', callId: 'call1' });
    ws.push('call-accepted', { callId: 'call1', sessionId: 's1', peerId: 'p2', initiator: true, media: 'video', iceServers: [] });
    await flush();
    expect(c.getState().call.phase).toBe('connecting');
    expect(ws.sent.find((f) => f.event === 'send-offer')?.data).toEqual({ offer: { type: 'offer', sdp: 'v=0 offer' } });
    expect(window.__connect).toMatchObject({ callId: 'call1', sessionId: 's1', connectionId: 'conn1' });
    const pc = FakePC.last!;
    pc.connectionState = 'connected';
    pc.onconnectionstatechange?.();
    expect(c.getState().call.phase).toBe('connected');
    c.hangup();
    await flush();
    expect(pc.closed).toBe(true);
    expect(c.getState().call).toMatchObject({ phase: 'ended', endKind: 'ended' });
    expect(calls.find((x) => x.path === '/api/calls/call1/end')?.body).toEqual({ reason: 'hangup' });
    vi.unstubAllGlobals();
  });

  it('busy callee ends with Busy', async () => {
    const { c } = await loggedIn({
      'POST /api/calls': () => res(409, { error: { code: 'busy', message: 'the person you called is in another call' } }),
    });
    await c.placeCall(BOB, 'audio');
    expect(c.getState().call).toMatchObject({ phase: 'ended', endKind: 'busy' });
  });

  it('answers an incoming call; answered elsewhere stops ringing on other devices', async () => {
    const { c, ws, calls } = await loggedIn();
    ws.push('incoming-call', { callId: 'call2', caller: BOB, media: 'audio' });
    expect(c.getState().call).toMatchObject({ phase: 'incoming', media: 'audio' });
    await c.answer();
    expect(calls.find((x) => x.path === '/api/calls/call2/respond')?.body).toEqual({ accept: true, connectionId: 'conn1' });
    ws.push('call-accepted', { callId: 'call2', sessionId: 's2', peerId: 'p1', initiator: false, media: 'audio', iceServers: [] });
    ws.push('offer', { from: 'p1', offer: { type: 'offer', sdp: 'remote' } });
    await flush();
    expect(ws.sent.find((f) => f.event === 'send-answer')?.data).toEqual({ answer: { type: 'answer', sdp: 'v=0 answer' } });
    ws.push('call-ended', { callId: 'call2', reason: 'hangup' });
    expect(c.getState().call).toMatchObject({ phase: 'ended', endKind: 'ended' });

    c.dismissCall();
    ws.push('incoming-call', { callId: 'call3', caller: BOB, media: 'video' });
    ws.push('call-accepted', { callId: 'call3', answeredElsewhere: true });
    expect(c.getState().call.phase).toBe('idle');
  });
});

describe('ContactsController safety', () => {
  it('loads the block list at login', async () => {
    const { c } = await loggedIn({
      'GET /api/blocks': () => res(200, { blocks: [{ user: BOB, createdAt: '2025-01-01T00:00:00Z' }] }),
    });
    expect(c.getState().blocks.map((b) => b.user.id)).toEqual([BOB.id]);
    expect(c.isBlocked(BOB.id)).toBe(true);
  });

  it('blocks: POSTs, marks the conversation blocked, lists the block; unblock reverts', async () => {
    let blocked = false;
    const { c, calls } = await loggedIn({
      'GET /api/users': () => res(200, { users: [BOB] }),
      'GET /api/blocks': () => res(200, { blocks: blocked ? [{ user: BOB, createdAt: '2025-01-01T00:00:00Z' }] : [] }),
      'POST /api/users/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/block': () => {
        blocked = true;
        return res(204);
      },
      'DELETE /api/users/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/block': () => {
        blocked = false;
        return res(204);
      },
    });
    await c.search('Bob');
    expect(c.getState().searchResults).toHaveLength(1);
    expect(await c.block(BOB)).toBe(true);
    await flush();
    expect(calls.some((x) => x.method === 'POST' && x.path === `/api/users/${BOB.id}/block`)).toBe(true);
    expect(c.channel(CH)?.blocked).toBe(true);
    expect(c.getState().searchResults).toHaveLength(1); // still findable by the blocker, to unblock
    expect(c.getState().blocks.map((b) => b.user.id)).toEqual([BOB.id]);

    expect(await c.unblock(BOB.id)).toBe(true);
    await flush();
    expect(calls.some((x) => x.method === 'DELETE' && x.path === `/api/users/${BOB.id}/block`)).toBe(true);
    expect(c.channel(CH)?.blocked).toBe(false);
    expect(c.getState().blocks).toEqual([]);
    expect(c.isBlocked(BOB.id)).toBe(false);
  });

  it('a refused block says why (by the error code) and changes nothing', async () => {
    const { c } = await loggedIn({
      'POST /api/users/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/block': () => res(429, { error: { code: 'rate_limited', message: 'too many requests' } }),
    });
    expect(await c.block(BOB)).toBe(false);
    expect(c.getState().error).toBe('You are doing that too often.'); // errors.rate_limited
    expect(c.channel(CH)?.blocked).toBeFalsy();
  });

  it('reports a message or the person with channelId, reason and a trimmed comment', async () => {
    const { c, calls } = await loggedIn({ 'POST /api/reports': () => res(201, { id: 'r1', status: 'pending' }) });
    await c.report({ channelId: CH, messageId: 'm1', reason: 'harassment', comment: '  rude  ' });
    await c.report({ channelId: CH, reason: 'spam', comment: '   ' });
    const sent = calls.filter((x) => x.path === '/api/reports').map((x) => x.body);
    expect(sent).toEqual([
      { channelId: CH, messageId: 'm1', reason: 'harassment', comment: 'rude' },
      { channelId: CH, reason: 'spam' },
    ]);
  });

  it('a refused report rejects with the server message', async () => {
    const { c } = await loggedIn({
      'POST /api/reports': () => res(409, { error: { code: 'already_reported', message: 'you already reported this message' } }),
    });
    await expect(c.report({ channelId: CH, messageId: 'm1', reason: 'spam' })).rejects.toThrow('you already reported this message');
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
    visible = false;
    c.openChannel(CH);
    await flush();
    ws.push('channel-message', message(3, BOB.id));
    await flush();
    const reads = () => calls.filter((x) => x.method === 'POST' && x.path.endsWith('/read'));
    expect(reads()).toHaveLength(0);
    expect(c.getState().channels[0]!.unreadCount).toBe(1);
    visible = true;
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

  it('the caller sees "declined" and the callee\'s history refreshes when a call is rejected', async () => {
    const { c, ws, calls } = await loggedIn();
    ws.push('incoming-call', { callId: 'k1', caller: BOB, media: 'audio' });
    expect(c.getState().call.phase).toBe('incoming');
    const historyLoads = () => calls.filter((x) => x.method === 'GET' && x.path === '/api/calls').length;
    const before = historyLoads();
    c.reject();
    await flush();
    expect(c.getState().call.phase).toBe('idle');
    ws.push('call-rejected', { callId: 'k1' });
    await flush();
    expect(historyLoads()).toBeGreaterThan(before + 1);
  });

  it('finds my own avatar after login, and the profile notice fades', async () => {
    const { c } = await loggedIn({
      ['GET /api/users/' + ME + '/avatar']: () => new Response(new Blob(['png']), { status: 200 }),
      'PUT /api/auth/profile': () => res(200, { id: ME, email: 'me@x.io', displayName: 'New', role: 'user', createdAt: 'x' }),
    });
    await flush();
    expect(c.getState().myAvatarUrl).toBe(`/api/users/${ME}/avatar`);
    await c.saveProfile('New');
    expect(c.getState().profileNotice).toBeTruthy();
    vi.advanceTimersByTime(5000);
    expect(c.getState().profileNotice).toBeNull();
  });

  it('calling someone offline says so at once (no ringing into nothing)', async () => {
    const { c } = await loggedIn({
      'POST /api/calls': () => res(409, { error: { code: 'callee_offline', message: 'offline' } }),
    });
    await c.placeCall(BOB, 'audio');
    await flush();
    expect(c.getState().call.phase).toBe('idle');
    expect(c.getState().call.error).toContain('Bob');
  });

  it('a login error does not follow onto the sign-up form', async () => {
    const t = setup({ 'POST /api/auth/login': () => res(401, { error: 'invalid_credentials', message: 'Wrong email or password' }) });
    await t.c.login('me@x.io', 'bad password');
    expect(t.c.getState().authError).toBeTruthy();
    t.c.clearAuthError();
    expect(t.c.getState().authError).toBeNull();
  });
});
