import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onUnavailable } from '../lib/api';
import { CloseCode, GatewayClient, GatewayError, type WebSocketLike } from './client';

class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: any[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(public url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  // --- test helpers
  serverOpen(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverSend(obj: unknown): void {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }
  serverWelcome(resumeToken = 'rt-1', resumed = false): void {
    this.serverSend({
      event: 'welcome',
      data: { connectionId: 'c-' + resumeToken, resumeToken, heartbeatMs: 0, resumed },
    });
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  events(): string[] {
    return this.sent.map((f) => f.event);
  }
}

const flush = async () => {
  // Let the async token fetch and socket creation run.
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function last(): FakeSocket {
  const s = FakeSocket.instances[FakeSocket.instances.length - 1];
  if (!s) throw new Error('no socket created');
  return s;
}

function makeClient(extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
  let n = 0;
  const getToken = vi.fn(async (opts?: { fresh?: boolean }) => `tok-${++n}${opts?.fresh ? '-fresh' : ''}`);
  const client = new GatewayClient({
    url: 'ws://test/ws',
    getToken,
    WebSocketImpl: FakeSocket,
    random: () => 1, // upper bound of jitter → deterministic delays
    ...extra,
  });
  return { client, getToken };
}

async function connected(extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
  const ctx = makeClient(extra);
  ctx.client.connect();
  await flush();
  const ws = last();
  ws.serverOpen();
  ws.serverWelcome('rt-1');
  return { ...ctx, ws };
}

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('handshake', () => {
  it('sends hello with the token as the very first frame', async () => {
    const { client } = makeClient();
    client.connect();
    await flush();
    const ws = last();
    expect(ws.url).toBe('ws://test/ws');
    expect(ws.sent).toHaveLength(0);
    ws.serverOpen();
    expect(ws.sent).toEqual([{ event: 'hello', data: { token: 'tok-1' } }]);
    expect(client.ready).toBe(false);
    const welcomed = vi.fn();
    client.on('welcome', welcomed);
    ws.serverWelcome('rt-A');
    expect(client.ready).toBe(true);
    expect(client.resumeToken).toBe('rt-A');
    expect(welcomed).toHaveBeenCalledWith(expect.objectContaining({ resumeToken: 'rt-A', resumed: false }));
  });

  it('queues emits made before welcome and flushes them in order after hello', async () => {
    const { client } = makeClient();
    client.emit('join-queue', { mode: 'text' });
    client.connect();
    client.emit('typing', { active: true });
    await flush();
    const ws = last();
    ws.serverOpen();
    client.emit('send-message', { text: 'hi' });
    expect(ws.events()).toEqual(['hello']);
    ws.serverWelcome();
    expect(ws.events()).toEqual(['hello', 'join-queue', 'typing', 'send-message']);
    expect(ws.sent[1].data).toEqual({ mode: 'text' });
  });

  it('bounds the queue, dropping the oldest frames', async () => {
    const { client } = makeClient({ maxQueue: 3 });
    for (let i = 0; i < 5; i++) client.emit('send-message', { text: `m${i}` });
    client.connect();
    await flush();
    last().serverOpen();
    last().serverWelcome();
    expect(last().sent.slice(1).map((f) => f.data.text)).toEqual(['m2', 'm3', 'm4']);
  });
});

describe('events', () => {
  it('dispatches server events to handlers and supports unsubscribe', async () => {
    const { client, ws } = await connected();
    const h = vi.fn();
    const off = client.on('matched', h);
    ws.serverSend({ event: 'matched', data: { sessionId: 's1' } });
    expect(h).toHaveBeenCalledWith({ sessionId: 's1' });
    off();
    ws.serverSend({ event: 'matched', data: { sessionId: 's2' } });
    expect(h).toHaveBeenCalledTimes(1);
  });

  it('ignores malformed frames', async () => {
    const { client, ws } = await connected();
    const h = vi.fn();
    client.on('message', h);
    ws.onmessage?.({ data: 'not json' });
    ws.onmessage?.({ data: '42' });
    ws.serverSend({ event: 'message', data: { text: 'ok' } });
    expect(h).toHaveBeenCalledTimes(1);
  });
});

describe('request', () => {
  it('resolves on ok ack with the extra fields', async () => {
    const { client, ws } = await connected();
    const p = client.request('join-queue', { mode: 'video' });
    const frame = ws.sent[ws.sent.length - 1];
    expect(frame.event).toBe('join-queue');
    expect(typeof frame.id).toBe('number');
    ws.serverSend({ ack: frame.id, ok: true, queued: true });
    await expect(p).resolves.toMatchObject({ ok: true, queued: true });
  });

  it('rejects with the server error code on ok:false', async () => {
    const { client, ws } = await connected();
    const p = client.request('send-message', { text: 'x' });
    const frame = ws.sent[ws.sent.length - 1];
    ws.serverSend({ ack: frame.id, ok: false, error: { code: 'rate_limited', message: 'slow down' }, retryAfterMs: 900 });
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('rate_limited');
    expect(err.message).toBe('slow down');
    expect(err.retryAfterMs).toBe(900);
  });

  it('matches acks by id even when they arrive out of order', async () => {
    const { client, ws } = await connected();
    const a = client.request('a');
    const b = client.request('b');
    const [fa, fb] = ws.sent.slice(-2);
    expect(fa.id).not.toBe(fb.id);
    ws.serverSend({ ack: fb.id, ok: true, which: 'b' });
    ws.serverSend({ ack: fa.id, ok: true, which: 'a' });
    await expect(a).resolves.toMatchObject({ which: 'a' });
    await expect(b).resolves.toMatchObject({ which: 'b' });
  });

  it('rejects with code timeout when no ack arrives', async () => {
    const { client } = await connected();
    const p = client.request('next', {}, { timeoutMs: 2000 });
    const caught = p.catch((e) => e);
    vi.advanceTimersByTime(1999);
    let settled = false;
    void p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await flush();
    expect(settled).toBe(false);
    vi.advanceTimersByTime(1);
    const err = await caught;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('timeout');
  });

  it('rejects requests in flight when the socket drops', async () => {
    const { client, ws } = await connected();
    const p = client.request('next');
    ws.serverClose(1006);
    const err = await p.catch((e) => e);
    expect(err.code).toBe('disconnected');
  });

  it('sends requests made before welcome once welcomed', async () => {
    const { client } = makeClient();
    const p = client.request('join-queue', { mode: 'text' });
    client.connect();
    await flush();
    const ws = last();
    ws.serverOpen();
    ws.serverWelcome();
    const frame = ws.sent[1];
    expect(frame.event).toBe('join-queue');
    ws.serverSend({ ack: frame.id, ok: true, queued: true });
    await expect(p).resolves.toMatchObject({ queued: true });
  });
});

describe('reconnect', () => {
  it('reconnects with exponential backoff that grows and is capped', async () => {
    const { client } = await connected({ backoff: { baseMs: 250, maxMs: 2000 } });
    const delays: number[] = [];
    client.on('reconnecting', (d) => delays.push(d.delayMs));
    for (let i = 0; i < 6; i++) {
      last().serverClose(1006);
      const before = FakeSocket.instances.length;
      vi.advanceTimersByTime(delays[delays.length - 1]! - 1);
      await flush();
      expect(FakeSocket.instances.length).toBe(before); // not yet
      vi.advanceTimersByTime(1);
      await flush();
      expect(FakeSocket.instances.length).toBe(before + 1);
      last().serverOpen(); // opens but never welcomed → attempts keep growing
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 2000, 2000]);
  });

  it('applies jitter between half and all of the delay', async () => {
    const { client } = await connected({ random: () => 0 });
    const delays: number[] = [];
    client.on('reconnecting', (d) => delays.push(d.delayMs));
    last().serverClose(4008);
    expect(delays).toEqual([125]);
  });

  it('sends the newest resume token on reconnect and resets backoff after welcome', async () => {
    const { client, ws } = await connected();
    const welcomes: any[] = [];
    const closed: any[] = [];
    client.on('welcome', (w) => welcomes.push(w));
    client.on('closed', (c) => closed.push(c));
    ws.serverClose(1006, 'network');
    expect(closed).toEqual([{ code: 1006, reason: 'network', willReconnect: true }]);
    vi.advanceTimersByTime(250);
    await flush();
    const ws2 = last();
    expect(ws2).not.toBe(ws);
    ws2.serverOpen();
    expect(ws2.sent[0]).toEqual({ event: 'hello', data: { token: 'tok-2', resume: 'rt-1' } });
    ws2.serverWelcome('rt-2', true);
    expect(welcomes[0].resumed).toBe(true);
    expect(client.resumeToken).toBe('rt-2');

    const delays: number[] = [];
    client.on('reconnecting', (d) => delays.push(d.delayMs));
    ws2.serverClose(4009);
    expect(delays).toEqual([250]); // backoff restarted
    vi.advanceTimersByTime(250);
    await flush();
    last().serverOpen();
    expect(last().sent[0].data.resume).toBe('rt-2');
  });

  it('keeps unsent emits across a reconnect', async () => {
    const { client, ws } = await connected();
    ws.serverClose(1006);
    client.emit('send-message', { text: 'while offline' });
    vi.advanceTimersByTime(250);
    await flush();
    last().serverOpen();
    last().serverWelcome('rt-2', true);
    expect(last().events()).toEqual(['hello', 'send-message']);
  });

  it('does not reconnect after 4003 banned', async () => {
    const { client, ws } = await connected();
    const banned = vi.fn();
    const closed = vi.fn();
    client.on('banned', banned);
    client.on('closed', closed);
    ws.serverSend({ event: 'banned', data: { until: null, reason: 'nudity', appeal: 'x' } });
    ws.serverClose(CloseCode.BANNED);
    expect(banned).toHaveBeenCalledTimes(1);
    expect(closed).toHaveBeenCalledWith({ code: 4003, reason: '', willReconnect: false });
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('does not reconnect after 4010 replaced', async () => {
    const { client, ws } = await connected();
    const reconnecting = vi.fn();
    client.on('reconnecting', reconnecting);
    ws.serverClose(CloseCode.REPLACED);
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(reconnecting).not.toHaveBeenCalled();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(client.state).toBe('closed');
  });

  it('does not reconnect after close(), which closes with 1000', async () => {
    const { client, ws } = await connected();
    const closed = vi.fn();
    client.on('closed', closed);
    const p = client.request('next').catch((e) => e);
    client.close();
    expect(ws.closedWith?.code).toBe(1000);
    expect(closed).toHaveBeenCalledWith(expect.objectContaining({ code: 1000, willReconnect: false }));
    expect((await p).code).toBe('closed');
    ws.serverClose(1000); // late event from the socket is ignored
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('close() during the reconnect delay cancels the reconnect', async () => {
    const { client, ws } = await connected();
    ws.serverClose(1006);
    client.close();
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('on 4001 fetches a fresh token and retries once, then gives up', async () => {
    const { client, getToken } = makeClient();
    const closed: any[] = [];
    client.on('closed', (c) => closed.push(c));
    client.connect();
    await flush();
    last().serverOpen();
    last().serverClose(CloseCode.UNAUTHORIZED);
    expect(closed[0]).toMatchObject({ code: 4001, willReconnect: true });
    vi.advanceTimersByTime(0);
    await flush();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(getToken).toHaveBeenLastCalledWith({ fresh: true });
    last().serverOpen();
    expect(last().sent[0].data.token).toBe('tok-2-fresh');
    last().serverClose(CloseCode.UNAUTHORIZED);
    expect(closed[1]).toMatchObject({ code: 4001, willReconnect: false });
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it('retries with backoff when the token provider fails', async () => {
    let fail = true;
    const getToken = vi.fn(async () => {
      if (fail) throw new Error('offline');
      return 'tok';
    });
    const client = new GatewayClient({ url: 'ws://t/ws', getToken, WebSocketImpl: FakeSocket, random: () => 1 });
    const reconnecting = vi.fn();
    client.on('reconnecting', reconnecting);
    client.connect();
    await flush();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(reconnecting).toHaveBeenCalledWith({ attempt: 1, delayMs: 250 });
    fail = false;
    vi.advanceTimersByTime(250);
    await flush();
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('heartbeat', () => {
  it('pings every heartbeatMs and drops a silent connection', async () => {
    const { client } = makeClient();
    client.connect();
    await flush();
    const ws = last();
    ws.serverOpen();
    ws.serverSend({ event: 'welcome', data: { connectionId: 'c', resumeToken: 'r', heartbeatMs: 1000 } });
    vi.advanceTimersByTime(1000);
    expect(ws.events()).toEqual(['hello', 'ping']);
    ws.serverSend({ event: 'pong', data: {} });
    const closed = vi.fn();
    client.on('closed', closed);
    vi.advanceTimersByTime(10_000);
    expect(closed).toHaveBeenCalledWith(expect.objectContaining({ code: CloseCode.HEARTBEAT_TIMEOUT, willReconnect: true }));
    expect(ws.closedWith?.code).toBe(CloseCode.HEARTBEAT_TIMEOUT);
  });
});

describe('server unavailable (issue 14: outages answer 1013 / unavailable)', () => {
  it('waits at least retryAfterMs after an unavailable hello closed with 1013 and tells the user', async () => {
    const { client } = makeClient({ random: () => 0 });
    const notices: any[] = [];
    client.on('reconnecting', (d) => notices.push(d));
    client.connect();
    await flush();
    const ws = last();
    ws.serverOpen();
    ws.serverSend({ event: 'error', data: { code: 'unavailable', message: 'down', retryAfterMs: 2000 } });
    ws.serverClose(1013, 'the service is temporarily unavailable');
    expect(notices).toHaveLength(1);
    expect(notices[0].unavailable).toBe(true);
    expect(notices[0].delayMs).toBe(2000);
    expect(notices[0].message).toContain('temporarily unavailable');
    expect(notices[0].message).toContain('2 s');
    const before = FakeSocket.instances.length;
    vi.advanceTimersByTime(1999);
    await flush();
    expect(FakeSocket.instances.length).toBe(before); // not before the server's hint
    vi.advanceTimersByTime(1);
    await flush();
    expect(FakeSocket.instances.length).toBe(before + 1);
    last().serverOpen();
    last().serverWelcome('rt-1');
    expect(client.ready).toBe(true);
  });

  it('backs off on 1011 too, without a retryAfterMs hint', async () => {
    const { client, ws } = await connected({ random: () => 0 });
    const notices: any[] = [];
    client.on('reconnecting', (d) => notices.push(d));
    ws.serverClose(1011, 'internal error');
    expect(notices[0].unavailable).toBe(true);
    expect(notices[0].delayMs).toBeGreaterThanOrEqual(1000);
  });

  it('sends a request nacked unavailable again after retryAfterMs and resolves on the next ok', async () => {
    const { client, ws } = await connected({ random: () => 0 });
    const p = client.request('channel-typing', { channelId: 'c1', active: true });
    const id = ws.sent[ws.sent.length - 1].id;
    ws.serverSend({ ack: id, ok: false, error: { code: 'unavailable', message: 'down' }, retryAfterMs: 500 });
    expect(ws.sent.filter((f) => f.id === id)).toHaveLength(1);
    vi.advanceTimersByTime(500);
    expect(ws.sent.filter((f) => f.id === id)).toHaveLength(2);
    ws.serverSend({ ack: id, ok: true });
    await expect(p).resolves.toMatchObject({ ok: true });
  });

  it('gives up after unavailableRetries and rejects with code unavailable and the hint', async () => {
    const { client, ws } = await connected({ random: () => 0, unavailableRetries: 1 });
    const p = client.request('channel-typing', { channelId: 'c1', active: true });
    const id = ws.sent[ws.sent.length - 1].id;
    const nack = { ack: id, ok: false, error: { code: 'unavailable', message: 'down' }, retryAfterMs: 300 };
    ws.serverSend(nack);
    vi.advanceTimersByTime(300);
    ws.serverSend(nack);
    await expect(p).rejects.toMatchObject({ code: 'unavailable', retryAfterMs: 300 });
  });

  it('shows the banner while reconnecting after 1013 and hides it at the next welcome', async () => {
    const { client, ws } = await connected({ random: () => 0 });
    const seen: boolean[] = [];
    const off = onUnavailable((n) => seen.push(n.active));
    ws.serverClose(CloseCode.TRY_AGAIN_LATER);
    expect(seen).toEqual([true]);
    vi.advanceTimersByTime(1000);
    await flush();
    last().serverOpen();
    last().serverWelcome('rt-2', true);
    off();
    expect(seen).toEqual([true, false]);
    expect(client.ready).toBe(true);
  });
});
