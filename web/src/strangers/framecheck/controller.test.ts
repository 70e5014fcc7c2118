/**
 * Frame moderation through the real strangers controller (fake socket, fake
 * camera, fake upload): when frames are sampled and when never, and what the
 * `video-hidden` / `video-flagged` verdicts do to the state.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayClient } from '../../gateway/client';
import { FakeSocket } from '../../gateway/fakeSocket';
import type { GuestTokens } from '../../lib/api';
import { ChatController } from '../controller';

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function fakeTrack(kind: 'video' | 'audio') {
  return { kind, readyState: 'live', enabled: true, stop() {}, getSettings: () => ({ deviceId: `${kind}-1` }) } as unknown as MediaStreamTrack;
}

function fakeStream(): MediaStream {
  const video = fakeTrack('video');
  const audio = fakeTrack('audio');
  return { getTracks: () => [video, audio], getVideoTracks: () => [video], getAudioTracks: () => [audio] } as unknown as MediaStream;
}

const POLICY = { firstAfterMs: 2000, meanIntervalMs: 10000, maxWidth: 320, jpegQuality: 0.6 };

async function setup(mode: 'video' | 'text') {
  const posts: Array<{ url: string; auth: string }> = [];
  const fetchImpl = vi.fn(async (url: string, init: RequestInit) => {
    posts.push({ url, auth: (init.headers as Record<string, string>).Authorization! });
    return new Response(JSON.stringify({ queued: true }), { status: 202 });
  }) as unknown as typeof fetch;
  const grab = vi.fn(async () => new Blob([new Uint8Array([0xff, 0xd8])], { type: 'image/jpeg' }));
  const tokens = { get: vi.fn(async () => 'tok') } as unknown as GuestTokens;
  const gateway = new GatewayClient({ url: 'ws://x/ws', getToken: tokens.get, WebSocketImpl: FakeSocket });
  const c = new ChatController({
    gateway,
    tokens,
    fetch: fetchImpl,
    getUserMedia: async () => fakeStream(),
    enumerateDevices: async () => [],
    autoRequeue: false,
    frameCheck: { grab, random: () => 1 - Math.exp(-1) },
  });
  await c.start({ mode, interests: ['x'] });
  await flush();
  const ws = FakeSocket.last!;
  ws.open();
  ws.push('welcome', { connectionId: 'c1', resumeToken: 'r1', heartbeatMs: 0, resumed: false });
  ws.ackLast({ queued: true });
  await flush();
  return { c, ws, posts, grab };
}

async function advance(ms: number) {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

beforeEach(() => {
  vi.useFakeTimers();
  // No RTCPeerConnection in node: the call part logs that and carries on (the sampling does not need it).
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('frame sampling', () => {
  it('a video session with a policy sends our camera at the schedule, and Next stops it', async () => {
    const { c, ws, posts, grab } = await setup('video');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', commonInterests: [], iceServers: [], frameCheck: POLICY });
    await advance(1900);
    expect(posts).toEqual([]);
    await advance(100);
    expect(posts).toEqual([{ url: '/api/strangers/sessions/s1/frames', auth: 'Bearer tok' }]);
    expect(grab).toHaveBeenCalledWith(expect.objectContaining({ kind: 'video' }), 320, 0.6);
    await advance(20000);
    expect(posts).toHaveLength(3);
    c.next();
    await advance(60000);
    expect(posts).toHaveLength(3);
    expect(c.frames.current).toBeNull();
  });

  it('no policy (operator switch off): nothing is sent', async () => {
    const { ws, posts } = await setup('video');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', commonInterests: [], iceServers: [] });
    await advance(120000);
    expect(posts).toEqual([]);
  });

  it('a text session sends nothing, even if a policy came along', async () => {
    const { ws, posts, grab } = await setup('text');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'text', commonInterests: [], iceServers: [], frameCheck: POLICY });
    await advance(120000);
    expect(posts).toEqual([]);
    expect(grab).not.toHaveBeenCalled();
  });

  it('the camera turned off: ticks take nothing until it is back on', async () => {
    const { c, ws, posts } = await setup('video');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', commonInterests: [], iceServers: [], frameCheck: POLICY });
    c.toggleCamera();
    await advance(30000);
    expect(posts).toEqual([]);
    c.toggleCamera();
    await advance(10000);
    expect(posts).toHaveLength(1);
  });

  it('the partner leaving stops the sampling', async () => {
    const { ws, posts } = await setup('video');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', commonInterests: [], iceServers: [], frameCheck: POLICY });
    await advance(2000);
    ws.push('peer-ended', { reason: 'skipped' });
    await advance(60000);
    expect(posts).toHaveLength(1);
  });
});

describe('verdicts', () => {
  it('video-hidden for this session hides the partner; a new session shows the next one', async () => {
    const { c, ws } = await setup('video');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', commonInterests: [], iceServers: [] });
    ws.push('video-hidden', { sessionId: 'other', reason: 'nudity' });
    expect(c.getState().videoHidden).toBeNull();
    ws.push('video-hidden', { sessionId: 's1', reason: 'nudity' });
    expect(c.getState().videoHidden).toBe('nudity');
    c.next();
    expect(c.getState().videoHidden).toBeNull();
    ws.push('matched', { sessionId: 's2', initiator: false, mode: 'video', commonInterests: [], iceServers: [] });
    expect(c.getState().videoHidden).toBeNull();
  });

  it('video-flagged tells the sender', async () => {
    const { c, ws } = await setup('video');
    ws.push('matched', { sessionId: 's1', initiator: false, mode: 'video', commonInterests: [], iceServers: [] });
    ws.push('video-flagged', { sessionId: 's1', reason: 'nudity' });
    expect(c.getState().videoFlagged).toBe('nudity');
    ws.push('peer-ended', { reason: 'ended' });
    expect(c.getState().videoFlagged).toBeNull();
  });
});
