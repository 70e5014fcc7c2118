/** Requests and their acks (outbox.ts) through a client on a hand-driven server end (serverHarness.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from './client';
import { FakeSocket, connected, flush, last, makeClient } from './serverHarness';

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
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

  it('keeps the nack\'s reason and params (why, when the code is shared by several causes)', async () => {
    const { client, ws } = await connected();
    const p = client.request('channel-typing', { channelId: 'c9', active: true });
    const frame = ws.sent[ws.sent.length - 1];
    const error = { code: 'not_found', message: 'no such channel', reason: 'channel_not_found', params: { n: 2 } };
    ws.serverSend({ ack: frame.id, ok: false, error });
    const err = await p.catch((e) => e);
    expect(err).toMatchObject({ code: 'not_found', reason: 'channel_not_found', params: { n: 2 } });
    const plain = client.request('send-message', { text: 'x' });
    ws.serverSend({ ack: ws.sent[ws.sent.length - 1].id, ok: false, error: { code: 'busy', message: 'b' } });
    const e2 = await plain.catch((e) => e);
    expect(e2.reason).toBeUndefined();
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

describe('requests nacked unavailable (issue 14)', () => {
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
});
