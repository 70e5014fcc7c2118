/** Reconnecting after a close (reconnect.ts) through a client on a hand-driven server end (serverHarness.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onUnavailable } from '../lib/api';
import { CloseCode, GatewayClient } from './client';
import { afterClose } from './reconnect';
import { FakeSocket, connected, flush, last, makeClient } from './serverHarness';

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
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

describe('afterClose (what a close code means, alone)', () => {
  const fresh = { stopped: false, authRetried: false, unavailableMs: null };
  it('comes back after an ordinary drop, with backoff', () => {
    expect(afterClose(1006, fresh)).toEqual({ reconnect: true, freshToken: false });
  });
  it('stays closed when banned, replaced or stopped', () => {
    expect(afterClose(CloseCode.BANNED, fresh).reconnect).toBe(false);
    expect(afterClose(CloseCode.REPLACED, fresh).reconnect).toBe(false);
    expect(afterClose(1006, { ...fresh, stopped: true }).reconnect).toBe(false);
  });
  it('retries a 4001 once, at once, with a fresh token', () => {
    expect(afterClose(CloseCode.UNAUTHORIZED, fresh)).toEqual({ reconnect: true, freshToken: true, fixedDelayMs: 0 });
    expect(afterClose(CloseCode.UNAUTHORIZED, { ...fresh, authRetried: true }).reconnect).toBe(false);
  });
  it('waits out an unavailable server: its retryAfterMs, else 1 s', () => {
    expect(afterClose(CloseCode.TRY_AGAIN_LATER, fresh).unavailableFloorMs).toBe(1000);
    expect(afterClose(CloseCode.INTERNAL_ERROR, fresh).unavailableFloorMs).toBe(1000);
    expect(afterClose(1006, { ...fresh, unavailableMs: 2500 }).unavailableFloorMs).toBe(2500);
  });
});
