import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayClient } from '../../gateway/client';
import { FakeSocket } from '../../gateway/fakeSocket';
import type { GuestTokens } from '../../lib/api';
import { AUTO_REQUEUE_MS, ChatController, statusText } from './index';

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

async function setup(opts: { autoRequeue?: boolean; criteria?: Record<string, unknown> } = {}) {
  const tokens = { get: vi.fn(async () => 'tok') } as unknown as GuestTokens;
  const gateway = new GatewayClient({ url: 'ws://x/ws', getToken: tokens.get, WebSocketImpl: FakeSocket });
  const c = new ChatController({ gateway, tokens, autoRequeue: opts.autoRequeue ?? true });
  await c.start({ mode: 'text', interests: ['chess'], language: 'de', countries: ['DE'], ...(opts.criteria ?? {}) });
  await flush();
  const ws = FakeSocket.last!;
  ws.open();
  ws.push('welcome', { connectionId: 'c1', resumeToken: 'r1', heartbeatMs: 0, resumed: false });
  ws.ackLast({ queued: true, country: 'DE' });
  await flush();
  return { c, ws };
}

function match(ws: FakeSocket, extra: Record<string, unknown> = {}) {
  ws.push('matched', { sessionId: 's1', initiator: true, mode: 'text', commonInterests: [], iceServers: [], ...extra });
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('waiting', () => {
  it('sends the country choice, shows counts, elapsed time and what narrows the search', async () => {
    const { c, ws } = await setup();
    expect(ws.last('join-queue').data).toEqual({ mode: 'text', language: 'de', interests: ['chess'], countries: ['DE'] });
    expect(c.getState().myCountry).toBe('DE');
    ws.push('queue-status', { online: 12, waiting: 3, elapsedMs: 4000, narrow: ['language', 'bogus'] });
    const s = c.getState();
    expect(s.counts).toEqual({ online: 12, waiting: 3 });
    expect(s.narrow).toEqual(['language']);
    expect(Date.now() - s.waitingSince!).toBe(4000);
  });

  it('match-timeout offers the widen; one click re-joins with update and the widened criteria', async () => {
    const { c, ws } = await setup();
    ws.push('match-timeout', { waitedMs: 20000, suggest: ['language', 'country', 'interests'] });
    expect(c.getState().timeoutSuggest).toEqual(['language', 'country', 'interests']);
    c.widen();
    expect(ws.last('join-queue').data).toEqual({ mode: 'text', country: 'any', update: true });
    expect(c.getState().timeoutSuggest).toBeNull();
    expect(c.getState().phase).toBe('queued');
  });
});

describe('after the partner leaves', () => {
  it('requeues automatically after a short pause, keeping the reason on screen until the next match', async () => {
    const { c, ws } = await setup();
    match(ws);
    ws.push('message', { text: 'bye' });
    ws.push('peer-ended', { reason: 'skipped' });
    expect(c.getState().phase).toBe('ended');
    expect(c.getState().requeueInMs).toBe(AUTO_REQUEUE_MS);
    const before = ws.sent.length;
    vi.advanceTimersByTime(AUTO_REQUEUE_MS + 300);
    expect(ws.sent.slice(before).map((f) => f.event)).toEqual(['next']);
    expect(c.getState().phase).toBe('queued');
    expect(statusText(c.getState())).toBe('Stranger skipped you — looking for someone new…');
    expect(c.getState().reportableSessionId).toBe('s1'); // still reportable while searching
    ws.push('matched', { sessionId: 's2', initiator: false, mode: 'text', iceServers: [] });
    const s = c.getState();
    expect(s.lines.map((l) => l.text)).not.toContain('bye'); // a clean screen
    expect(statusText(s)).toBe('Connected to a stranger');
  });

  it('"Stay here" and the toggle stop it', async () => {
    const { c, ws } = await setup();
    match(ws);
    ws.push('peer-ended', { reason: 'ended' });
    c.cancelRequeue();
    const before = ws.sent.length;
    vi.advanceTimersByTime(AUTO_REQUEUE_MS * 2);
    expect(ws.sent.length).toBe(before);
    expect(c.getState().phase).toBe('ended');

    const off = await setup({ autoRequeue: false });
    match(off.ws);
    off.ws.push('peer-ended', { reason: 'ended' });
    expect(off.c.getState().requeueInMs).toBeNull();
  });
});

describe('in the call', () => {
  it('shows the partner country and media state; ignores junk', async () => {
    const { c, ws } = await setup();
    match(ws, { country: 'AT' });
    expect(c.getState().partnerCountry).toBe('AT');
    ws.push('media-state', { from: 'p', audio: false, video: true, camera: 'ok' });
    expect(c.getState().partnerMedia).toEqual({ audio: false, video: true, camera: 'ok' });
    ws.push('media-state', { from: 'p', audio: true, video: false, camera: 'none' });
    expect(c.getState().partnerMedia).toEqual({ audio: true, video: false, camera: 'none' });
    ws.push('media-state', 'nope');
    expect(c.getState().partnerMedia?.camera).toBe('none');
    const other = await setup();
    match(other.ws, { country: '<b>' });
    expect(other.c.getState().partnerCountry).toBeNull();
  });

  it('relays reactions both ways and lets them fade', async () => {
    const { c, ws } = await setup();
    match(ws);
    c.sendReaction('🔥');
    expect(ws.last('send-reaction').data).toEqual({ emoji: '🔥' });
    ws.ackLast();
    await flush();
    ws.push('reaction', { from: 'p', emoji: '👋' });
    ws.push('reaction', { from: 'p', emoji: 'javascript:' });
    expect(c.getState().reactions.map((r) => [r.from, r.emoji])).toEqual([
      ['you', '🔥'],
      ['stranger', '👋'],
    ]);
    c.sendReaction('not an emoji');
    expect(ws.sent.filter((f) => f.event === 'send-reaction')).toHaveLength(1);
    vi.advanceTimersByTime(5000);
    expect(c.getState().reactions).toEqual([]);
  });

  it('Esc twice is Next; a single Esc expires', async () => {
    const { c, ws } = await setup();
    match(ws);
    c.escape();
    vi.advanceTimersByTime(2000);
    expect(c.getState().escArmed).toBe(false);
    expect(ws.last('next')).toBeUndefined();
    c.escape();
    c.escape();
    expect(ws.last('next')).toBeDefined();
    expect(c.getState().phase).toBe('queued');
  });

  it('a server error code becomes a sentence', async () => {
    const { c, ws } = await setup();
    match(ws);
    c.sendReaction('👍');
    const f = ws.last('send-reaction');
    ws.onmessage?.({ data: JSON.stringify({ ack: f.id, ok: false, error: { code: 'rate_limited', message: 'x' }, retryAfterMs: 1500 }) });
    await flush();
    expect(c.getState().notice).toBe('You are doing that too often. (try again in 2 s)');
  });
});

describe('no camera', () => {
  it('a refused camera: the partner is told, and "Continue with text" re-joins as text', async () => {
    const tokens = { get: vi.fn(async () => 'tok') } as unknown as GuestTokens;
    const gateway = new GatewayClient({ url: 'ws://x/ws', getToken: tokens.get, WebSocketImpl: FakeSocket });
    const getUserMedia = vi.fn(async () => {
      throw Object.assign(new Error('no'), { name: 'NotAllowedError' });
    });
    const c = new ChatController({ gateway, tokens, getUserMedia, enumerateDevices: async () => [], autoRequeue: false });
    await c.start({ mode: 'video', interests: ['x'] });
    await flush();
    expect(c.getState().mediaError).toBe('denied');
    const ws = FakeSocket.last!;
    ws.open();
    ws.push('welcome', { connectionId: 'c1', resumeToken: 'r1', heartbeatMs: 0, resumed: false });
    ws.ackLast({ queued: true });
    await flush();
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', iceServers: [] });
    expect(ws.last('media-state').data).toEqual({ audio: false, video: false, camera: 'denied' });
    c.continueWithText();
    await flush();
    expect(ws.last('end-call')).toBeDefined();
    expect(ws.last('join-queue').data).toEqual({ mode: 'text', interests: ['x'] });
    expect(c.getState().mode).toBe('text');
  });
});
