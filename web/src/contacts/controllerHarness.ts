/**
 * Test-only: a ContactsController on real AuthStore and GatewayClient code with
 * a routed fake fetch, FakeSocket (../gateway/fakeSocket.ts) and FakePC; the
 * page's visibility is `page.visible`. Shared by store.test.ts,
 * messaging.test.ts and calls.test.ts.
 */
import { vi } from 'vitest';
import { FakeSocket } from '../gateway/fakeSocket';
import { AuthStore } from '../lib/auth';
import { ContactsController } from '../lib/contacts';

/** Whether the page is visible to the controller (reset to true before each test). */
export const page = { visible: true };

export class FakePC {
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

export const ME = 'a'.repeat(32);
export const BOB = { id: 'b'.repeat(32), displayName: 'Bob', avatarUrl: null };
export const CH = 'c'.repeat(32);

export const res = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

export const message = (seq: number, senderId: string, extra: Record<string, unknown> = {}) => ({
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

export const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

export function setup(routes: Record<string, (body: any) => Response | Promise<Response>> = {}) {
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
    isVisible: () => page.visible,
    createObjectURL: () => 'blob:x',
  });
  return { c, calls, fetchImpl };
}

export async function loggedIn(routes?: Record<string, (body: any) => Response | Promise<Response>>) {
  const t = setup(routes);
  await t.c.login('me@x.io', 'correct horse');
  await flush();
  const ws = FakeSocket.last!;
  ws.open();
  ws.push('welcome', { connectionId: 'conn1', resumeToken: 'r', heartbeatMs: 0, resumed: false });
  await flush();
  return { ...t, ws };
}
