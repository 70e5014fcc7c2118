import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayClient } from '../gateway/client';
import { FakeSocket } from '../gateway/fakeSocket';
import { ChatController, statusText } from './controller';
import { ApiError, type GuestTokens } from './api';
import type { AltchaChallenge, CaptchaSolver } from './captcha';

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

async function setup(extra: { solveCaptcha?: CaptchaSolver; fetch?: typeof fetch } = {}) {
  const tokens = { get: vi.fn(async () => 'tok') } as unknown as GuestTokens;
  const gateway = new GatewayClient({ url: 'ws://x/ws', getToken: tokens.get, WebSocketImpl: FakeSocket });
  const c = new ChatController({ gateway, tokens, ...extra });
  await c.start({ mode: 'text', interests: ['music'], language: 'en' });
  await flush();
  const ws = FakeSocket.last!;
  ws.open();
  ws.push('welcome', { connectionId: 'c1', resumeToken: 'r1', heartbeatMs: 0, resumed: false });
  return { c, ws };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('ChatController (text mode)', () => {
  it('joins the queue after welcome and walks through a chat', async () => {
    const { c, ws } = await setup();
    expect(ws.events()).toEqual(['hello', 'join-queue']);
    expect(ws.sent[1].data).toEqual({ mode: 'text', language: 'en', interests: ['music'] });
    ws.ackLast({ queued: true });
    await flush();
    expect(statusText(c.getState())).toBe('Looking for a stranger…');

    ws.push('matched', { sessionId: 's1', peerId: 'p', initiator: true, mode: 'text', commonInterests: ['music'], iceServers: [] });
    expect(statusText(c.getState())).toBe('Connected to a stranger');
    expect(c.getState().commonInterests).toEqual(['music']);

    c.inputChanged('h');
    c.inputChanged('hi');
    expect(ws.events().filter((e) => e === 'typing')).toHaveLength(1);
    expect(c.sendMessage('hi')).toBe(true);
    expect(ws.sent.at(-2)).toMatchObject({ event: 'send-message', data: { text: 'hi' } });
    expect(ws.sent.at(-1)).toEqual({ event: 'typing', data: { active: false } });

    ws.push('typing', { from: 'p', active: true });
    expect(c.getState().strangerTyping).toBe(true);
    ws.push('message', { from: 'p', text: 'hello', ts: 1 });
    expect(c.getState().strangerTyping).toBe(false);
    expect(c.getState().lines.filter((l) => l.who !== 'system').map((l) => `${l.who}:${l.text}`)).toEqual([
      'you:hi',
      'stranger:hello',
    ]);

    ws.push('peer-ended', { reason: 'skipped' });
    expect(statusText(c.getState())).toBe('Stranger skipped you');
    expect(c.getState().lines.some((l) => l.text === 'hi')).toBe(true); // log kept
    expect(c.getState().reportableSessionId).toBe('s1');

    c.next();
    expect(ws.events().at(-1)).toBe('next');
    expect(statusText(c.getState())).toBe('Looking for a stranger…');
  });

  it('sends typing false after 3 s idle', async () => {
    const { c, ws } = await setup();
    ws.push('matched', { sessionId: 's1', peerId: 'p', initiator: false, mode: 'text', commonInterests: [], iceServers: [] });
    c.inputChanged('x');
    vi.advanceTimersByTime(3000);
    expect(ws.sent.at(-1)).toEqual({ event: 'typing', data: { active: false } });
  });

  it('shows peer reconnecting and the ban screen', async () => {
    const { c, ws } = await setup();
    ws.push('matched', { sessionId: 's1', peerId: 'p', initiator: false, mode: 'text', commonInterests: [], iceServers: [] });
    ws.push('peer-reconnecting', {});
    expect(statusText(c.getState())).toBe('Stranger is reconnecting…');
    ws.push('peer-reconnected', {});
    expect(statusText(c.getState())).toBe('Connected to a stranger');
    ws.push('banned', { until: '2030-01-01T00:00:00Z', reason: 'spam', appeal: { banId: 'b1', token: 'at', url: '/appeal' } });
    expect(c.getState().screen).toBe('banned');
    expect(c.getState().ban?.reason).toBe('spam');
  });

  it('end-call returns to the start screen', async () => {
    const { c, ws } = await setup();
    ws.push('matched', { sessionId: 's1', peerId: 'p', initiator: false, mode: 'text', commonInterests: [], iceServers: [] });
    c.end();
    expect(ws.events().at(-1)).toBe('end-call');
    expect(c.getState().screen).toBe('start');
  });

  it('re-joins the queue when a reconnect is not resumed', async () => {
    const { ws } = await setup();
    ws.ackLast({ queued: true });
    await flush();
    ws.readyState = 3;
    ws.onclose?.({ code: 1006, reason: '' });
    await vi.advanceTimersByTimeAsync(10_000);
    const ws2 = FakeSocket.last!;
    expect(ws2).not.toBe(ws);
    ws2.open();
    expect(ws2.sent[0].data.resume).toBe('r1');
    ws2.push('welcome', { connectionId: 'c2', resumeToken: 'r2', heartbeatMs: 0, resumed: false });
    expect(ws2.events()).toEqual(['hello', 'join-queue']);
  });
});

const CHALLENGE: AltchaChallenge = {
  parameters: {
    algorithm: 'SHA-256',
    cost: 1,
    keyLength: 32,
    keyPrefix: '00',
    nonce: 'aabb',
    salt: 'ccdd',
    expiresAt: 4102444800,
  },
  signature: 'sig',
};

const jsonResponse = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('ChatController (moderation)', () => {
  it('shows the ban screen on `banned` and sends an appeal', async () => {
    const fetchImpl = vi.fn(async () => jsonResponse(201, { id: 'a1', status: 'pending' }));
    const { c, ws } = await setup({ fetch: fetchImpl as unknown as typeof fetch });
    ws.push('matched', { sessionId: 's1', peerId: 'p', initiator: false, mode: 'text', commonInterests: [], iceServers: [] });
    ws.push('banned', { until: null, reason: 'harassment', appeal: { banId: 'b1', token: 'appeal-tok', url: '/appeal' } });
    ws.onclose?.({ code: 4003, reason: 'banned' });
    const s = c.getState();
    expect(s.screen).toBe('banned');
    expect(s.ban).toEqual({ until: null, reason: 'harassment', appeal: { banId: 'b1', token: 'appeal-tok', url: '/appeal' } });
    expect(s.sessionId).toBeNull();

    await c.submitAppeal('  it was not me  ');
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/appeals');
    expect(JSON.parse(String(init.body))).toEqual({ appealToken: 'appeal-tok', text: 'it was not me' });
    expect(c.getState().appeal).toEqual({ status: 'done', error: null });
  });

  it('says so when the ban was already appealed', async () => {
    const fetchImpl = vi.fn(async () => jsonResponse(409, { error: { code: 'already_appealed', message: 'exists' } }));
    const { c, ws } = await setup({ fetch: fetchImpl as unknown as typeof fetch });
    ws.push('banned', { until: '2030-01-01T00:00:00Z', reason: 'spam', appeal: { banId: 'b1', token: 't', url: '/a' } });
    await c.submitAppeal('please');
    expect(c.getState().appeal).toEqual({ status: 'already', error: 'You already appealed this ban' });
  });

  it('shows the ban screen when the guest token is refused with 403 banned', async () => {
    const ban = { until: null, reason: 'spam', appeal: { banId: 'b9', token: 'tk', url: '/a' } };
    const tokens = {
      get: vi.fn(async () => {
        throw new ApiError(403, 'banned', 'You are banned', undefined, ban);
      }),
    } as unknown as GuestTokens;
    const c = new ChatController({
      tokens,
      gateway: (getToken) => new GatewayClient({ url: 'ws://x/ws', getToken, WebSocketImpl: FakeSocket }),
    });
    await c.start({ mode: 'text', interests: [] });
    await flush();
    expect(c.getState().screen).toBe('banned');
    expect(c.getState().ban).toEqual(ban);
    expect(c.gateway.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(tokens.get).toHaveBeenCalledTimes(1); // no reconnect loop
  });

  it('solves a CAPTCHA after a failed join-queue and joins again', async () => {
    let release!: () => void;
    const solver = vi.fn<CaptchaSolver>(
      (ch) => new Promise((resolve) => (release = () => resolve({ counter: 42, derivedKey: '00ff' + ch.parameters.nonce }))),
    );
    const { c, ws } = await setup({ solveCaptcha: solver });
    expect(ws.events()).toEqual(['hello', 'join-queue']);
    ws.push('captcha-required', { challenge: CHALLENGE });
    ws.nackLast({ code: 'captcha_required', message: 'Please verify you are human' });
    await flush();
    expect(c.getState().captcha?.status).toBe('solving');
    expect(c.getState().phase).toBe('connecting');
    expect(statusText(c.getState())).toBe('Verifying you are human…');
    expect(solver).toHaveBeenCalledWith(CHALLENGE, expect.anything());

    release();
    await flush();
    const sol = ws.sent.at(-1);
    expect(sol.event).toBe('captcha-solution');
    expect(typeof sol.id).toBe('number');
    const decoded = JSON.parse(atob(sol.data.payload));
    expect(decoded).toEqual({ challenge: CHALLENGE, solution: { counter: 42, derivedKey: '00ffaabb' } });
    expect(c.getState().captcha?.status).toBe('verifying');

    ws.ackLast();
    await flush();
    expect(c.getState().captcha).toBeNull();
    expect(ws.events()).toEqual(['hello', 'join-queue', 'captcha-solution', 'join-queue']);
    expect(ws.sent.at(-1).data).toEqual({ mode: 'text', language: 'en', interests: ['music'] });
    ws.ackLast({ queued: true });
    await flush();
    expect(statusText(c.getState())).toBe('Looking for a stranger…');
  });

  it('retries `next` after the CAPTCHA (ack failure before the challenge arrives)', async () => {
    const solver: CaptchaSolver = async () => ({ counter: 1, derivedKey: '00' });
    const { c, ws } = await setup({ solveCaptcha: solver });
    ws.ackLast({ queued: true });
    await flush();
    ws.push('matched', { sessionId: 's1', peerId: 'p', initiator: false, mode: 'text', commonInterests: [], iceServers: [] });
    c.next();
    expect(ws.events().at(-1)).toBe('next');
    ws.nackLast({ code: 'captcha_required', message: 'verify' });
    await flush();
    expect(c.getState().captcha?.status).toBe('waiting');
    ws.push('captcha-required', { challenge: CHALLENGE });
    await flush();
    expect(ws.events().at(-1)).toBe('captcha-solution');
    ws.ackLast();
    await flush();
    expect(ws.events().at(-1)).toBe('next');
    expect(c.getState().captcha).toBeNull();
  });

  it('shows a rejected solution as an error', async () => {
    const { c, ws } = await setup({ solveCaptcha: async () => ({ counter: 1, derivedKey: '00' }) });
    ws.nackLast({ code: 'captcha_required', message: 'verify' });
    ws.push('captcha-required', { challenge: CHALLENGE });
    await flush();
    ws.nackLast({ code: 'captcha_invalid', message: 'Verification failed' });
    await flush();
    expect(c.getState().captcha).toEqual({ status: 'error', error: 'Verification failed' });
    c.retryCaptcha();
    expect(ws.events().at(-1)).toBe('join-queue');
  });

  it('shows and dismisses a moderator warning', async () => {
    const { c, ws } = await setup();
    ws.push('warning', { message: 'Be nice' });
    expect(c.getState().warning).toBe('Be nice');
    c.dismissWarning();
    expect(c.getState().warning).toBeNull();
  });
});

describe("ChatController: don't match me with this person again", () => {
  const MATCHED = { sessionId: 's1', peerId: 'p', initiator: true, mode: 'text', commonInterests: [], iceServers: [] };

  async function matched() {
    const env = await setup();
    env.ws.ackLast({ queued: true });
    await flush();
    env.ws.push('matched', MATCHED);
    return env;
  }

  it('sends next with avoid and the chat it leaves, then says so', async () => {
    const { c, ws } = await matched();
    expect(c.canAvoid()).toBe(true);
    c.next({ avoid: true });
    expect(ws.sent.at(-1)).toMatchObject({ event: 'next', data: { avoid: true, sessionId: 's1' } });
    expect(c.getState().phase).toBe('queued');
    ws.ackLast({ queued: true });
    await flush();
    expect(c.getState().notice).toBe('You will not be matched with this person again.');
  });

  it('a plain next sends no avoid', async () => {
    const { c, ws } = await matched();
    c.next();
    expect(ws.sent.at(-1)).toMatchObject({ event: 'next', data: {} });
  });

  it('after the stranger left, names the ended chat', async () => {
    const { c, ws } = await matched();
    ws.push('peer-ended', { reason: 'skipped' });
    expect(c.getState().phase).toBe('ended');
    expect(c.canAvoid()).toBe(true);
    c.next({ avoid: true });
    expect(ws.sent.at(-1)).toMatchObject({ event: 'next', data: { avoid: true, sessionId: 's1' } });
  });

  it('has nobody to avoid before the first match', async () => {
    const { c, ws } = await setup();
    ws.ackLast({ queued: true });
    await flush();
    expect(c.canAvoid()).toBe(false);
    c.next({ avoid: true });
    expect(ws.sent.at(-1)).toMatchObject({ event: 'next', data: {} });
  });

  it('when the server no longer knows the chat, tells the visitor and still moves on', async () => {
    const { c, ws } = await matched();
    ws.push('peer-ended', { reason: 'ended' });
    c.next({ avoid: true });
    ws.nackLast({ code: 'not_in_session', message: 'gone' });
    await flush();
    expect(c.getState().notice).toBe('That chat is too old to remember — looking for someone new.');
    expect(ws.sent.at(-1)).toMatchObject({ event: 'next', data: {} });
  });

  it('a report carries avoid (true unless the box was unticked)', async () => {
    const fetchImpl = vi.fn(async () => new Response(JSON.stringify({ id: 'r1', status: 'pending' }), { status: 201 }));
    const { c, ws } = await setup({ fetch: fetchImpl as unknown as typeof fetch });
    ws.ackLast({ queued: true });
    await flush();
    ws.push('matched', MATCHED);
    await c.report('harassment', '');
    await c.report('spam', 'x', null, false);
    const bodies = fetchImpl.mock.calls.map((call) => JSON.parse(String((call as unknown as [string, RequestInit])[1].body)));
    expect(bodies[0]).toMatchObject({ sessionId: 's1', reason: 'harassment', avoid: true });
    expect(bodies[1]).toMatchObject({ sessionId: 's1', reason: 'spam', avoid: false });
  });
});
