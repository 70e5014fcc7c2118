/**
 * Test-only: the server end of a GatewayClient's socket, driven by hand
 * (`serverOpen`, `serverSend`, `serverWelcome`, `serverClose`), and a client
 * on it with deterministic jitter. Shared by client.test.ts, outbox.test.ts and
 * reconnect.test.ts. (fakeSocket.ts is the simpler fake for the client's users.)
 */
import { vi } from 'vitest';
import { GatewayClient, type WebSocketLike } from './client';

export class FakeSocket implements WebSocketLike {
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

export const flush = async () => {
  // Let the async token fetch and socket creation run.
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

export function last(): FakeSocket {
  const s = FakeSocket.instances[FakeSocket.instances.length - 1];
  if (!s) throw new Error('no socket created');
  return s;
}

export function makeClient(extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
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

export async function connected(extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
  const ctx = makeClient(extra);
  ctx.client.connect();
  await flush();
  const ws = last();
  ws.serverOpen();
  ws.serverWelcome('rt-1');
  return { ...ctx, ws };
}
