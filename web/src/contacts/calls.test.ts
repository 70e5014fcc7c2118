/** Direct calls (calls.ts): placing, answering, busy, declined, offline. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakePC, BOB, res, flush, loggedIn, page } from './controllerHarness';

beforeEach(() => {
  page.visible = true;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('ContactsController calls', () => {
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

  it('calling someone offline says so at once (no ringing into nothing)', async () => {
    const { c } = await loggedIn({
      'POST /api/calls': () => res(409, { error: { code: 'callee_offline', message: 'offline' } }),
    });
    await c.placeCall(BOB, 'audio');
    await flush();
    expect(c.getState().call.phase).toBe('idle');
    expect(c.getState().call.error).toContain('Bob');
  });
});
