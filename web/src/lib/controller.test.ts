import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayClient, type WebSocketLike } from '../gateway/client';
import { ChatController, statusText } from './controller';
import type { GuestTokens } from './api';

class FakeSocket implements WebSocketLike {
  static last: FakeSocket | null = null;
  readyState = 0;
  sent: any[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.last = this;
  }
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(event: string, data: unknown) {
    this.onmessage?.({ data: JSON.stringify({ event, data }) });
  }
  ackLast(extra: Record<string, unknown> = {}) {
    const f = [...this.sent].reverse().find((x) => typeof x.id === 'number');
    this.onmessage?.({ data: JSON.stringify({ ack: f.id, ok: true, ...extra }) });
  }
  events() {
    return this.sent.map((f) => f.event);
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

async function setup() {
  const tokens = { get: vi.fn(async () => 'tok') } as unknown as GuestTokens;
  const gateway = new GatewayClient({ url: 'ws://x/ws', getToken: tokens.get, WebSocketImpl: FakeSocket });
  const c = new ChatController({ gateway, tokens });
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
    ws.push('banned', { until: '2030-01-01T00:00:00Z', reason: 'spam', appeal: 'https://x/appeal' });
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
