/** The client's handshake, event dispatch and heartbeat, against a hand-driven server end (serverHarness.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloseCode } from './client';
import { FakeSocket, connected, flush, last, makeClient } from './serverHarness';

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
