/**
 * GatewayClient — one socket's lifecycle against Connect's realtime gateway
 * (/ws): connecting with a fresh token, the hello/welcome handshake with
 * resume, routing frames, and after a close whether and when to come back.
 * The wire format and the lifecycle events are described in types.ts; the
 * parts: outbox.ts (buffered frames, acks, retries of `unavailable`),
 * reconnect.ts (backoff, the unavailable notice, what a close code means),
 * heartbeat.ts, events.ts (subscribers).
 */

import type { ClientEvents, HelloIn } from '../protocol';
import { EventHandlers, type Handler } from './events';
import { Heartbeat } from './heartbeat';
import { Outbox } from './outbox';
import { Reconnector, afterClose } from './reconnect';
import {
  CloseCode,
  type AckOk,
  type GatewayEvents,
  type GatewayOptions,
  type GatewayState,
  type RequestOptions,
  type Timers,
  type WebSocketCtor,
  type WebSocketLike,
  type WelcomeData,
} from './types';

export * from './types';

/** `data` may be left out when the payload has no required field. */
type EmitArgs<P> = {} extends P ? [data?: P] : [data: P];
type RequestArgs<P> = {} extends P ? [data?: P, opts?: RequestOptions] : [data: P, opts?: RequestOptions];
/** A name not in M (so a known event cannot dodge its typed overload). */
type Unknown<E extends string, M> = E extends keyof M ? never : E;

const OPEN = 1;

export class GatewayClient {
  private readonly opts: GatewayOptions;
  private readonly WS: WebSocketCtor;
  private readonly events = new EventHandlers();
  private readonly outbox: Outbox;
  private readonly reconnector: Reconnector;
  private readonly heartbeat: Heartbeat;

  private ws: WebSocketLike | null = null;
  private _state: GatewayState = 'idle';
  private stopped = true;
  private authRetried = false;
  private freshTokenNext = false;
  private heartbeatMs = 0;
  /** retryAfterMs of an `unavailable` error received on the current socket. */
  private unavailableMs: number | null = null;

  /** Newest resume token from the server (rotates on every welcome). */
  resumeToken: string | null = null;
  connectionId: string | null = null;

  constructor(opts: GatewayOptions) {
    this.opts = opts;
    const g = globalThis as unknown as { WebSocket?: WebSocketCtor };
    const WS = opts.WebSocketImpl ?? g.WebSocket;
    if (!WS) throw new Error('GatewayClient: no WebSocket implementation available');
    this.WS = WS;
    const random = opts.random ?? Math.random;
    // Resolve the global timers lazily so fake timers installed later still apply.
    const timers: Timers = {
      setT: opts.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms)),
      clearT: opts.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>)),
    };
    const now = () => this.now();
    this.outbox = new Outbox(
      { ...timers, now, random, ready: () => this.ready, send: (frame) => this.sendRaw(frame) },
      { maxQueue: opts.maxQueue ?? 100, unavailableRetries: opts.unavailableRetries ?? 2 },
    );
    this.reconnector = new Reconnector({
      ...timers,
      baseMs: opts.backoff?.baseMs ?? 250,
      maxMs: opts.backoff?.maxMs ?? 10_000,
      random,
      notify: (info) => this.dispatch('reconnecting', info),
      reopen: () => {
        if (!this.stopped) void this.open();
      },
    });
    this.heartbeat = new Heartbeat({
      ...timers,
      now,
      alive: () => this.ws !== null && this._state === 'ready',
      ping: () => this.sendRaw(JSON.stringify({ event: 'ping', data: {} })),
      silent: () => this.dropSilent(),
    });
  }

  get state(): GatewayState {
    return this._state;
  }

  /** True once the server has answered hello with welcome on the current socket. */
  get ready(): boolean {
    return this._state === 'ready';
  }

  /** Open the connection (no-op if already connecting or connected). */
  connect(): void {
    if (!this.stopped && this._state !== 'closed') return;
    this.stopped = false;
    this.reconnector.restart();
    this.authRetried = false;
    this.freshTokenNext = false;
    void this.open();
  }

  /** Close with 1000 and stop reconnecting. Pending and queued requests are rejected. */
  close(): void {
    const wasActive = !this.stopped;
    this.stopped = true;
    this.reconnector.cancel();
    this.heartbeat.stop();
    const ws = this.ws;
    this.ws = null;
    this._state = 'closed';
    if (ws) {
      this.detach(ws);
      try {
        ws.close(CloseCode.NORMAL, 'client closed');
      } catch {
        /* ignore */
      }
    }
    this.outbox.failPending('closed', 'connection closed', true);
    if (wasActive) this.dispatch('closed', { code: CloseCode.NORMAL, reason: 'client closed', willReconnect: false });
  }

  /** Fire and forget. Buffered (bounded) until the connection is welcomed. */
  emit<K extends keyof ClientEvents>(event: K, ...args: EmitArgs<ClientEvents[K]>): void;
  emit<E extends string>(event: Unknown<E, ClientEvents>, data?: Record<string, unknown>): void;
  emit(event: string, data: object = {}): void {
    this.outbox.emit(event, data);
  }

  /** Send with an id and wait for the ack. Rejects with GatewayError on ok:false, timeout or disconnect. */
  request<K extends keyof ClientEvents>(event: K, ...args: RequestArgs<ClientEvents[K]>): Promise<AckOk>;
  request<E extends string>(
    event: Unknown<E, ClientEvents>,
    data?: Record<string, unknown>,
    opts?: RequestOptions,
  ): Promise<AckOk>;
  request(event: string, data: object = {}, opts: RequestOptions = {}): Promise<AckOk> {
    return this.outbox.request(event, data, opts.timeoutMs ?? this.opts.requestTimeoutMs ?? 10_000);
  }

  /** Subscribe to a server event or a lifecycle event. Returns an unsubscribe function. */
  on<K extends keyof GatewayEvents>(event: K, handler: (data: GatewayEvents[K]) => void): () => void;
  on<E extends string>(event: Unknown<E, GatewayEvents>, handler: Handler): () => void;
  on(event: string, handler: Handler): () => void {
    return this.events.on(event, handler);
  }

  // ---------------------------------------------------------------- internals

  private dispatch(event: string, data: unknown): void {
    this.events.dispatch(event, data);
  }

  private sendRaw(frame: string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    try {
      ws.send(frame);
    } catch {
      /* the close handler will deal with it */
    }
  }

  private url(): string {
    return typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url;
  }

  private async open(): Promise<void> {
    this._state = 'connecting';
    const fresh = this.freshTokenNext;
    this.freshTokenNext = false;
    let token: string;
    try {
      token = await this.opts.getToken(fresh ? { fresh: true } : undefined);
    } catch (err) {
      if (this.stopped) return;
      this._state = 'closed';
      this.dispatch('closed', { code: 0, reason: `token: ${(err as Error)?.message ?? err}`, willReconnect: true });
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;

    let ws: WebSocketLike;
    try {
      ws = new this.WS(this.url());
    } catch (err) {
      this._state = 'closed';
      this.dispatch('closed', { code: 0, reason: String((err as Error)?.message ?? err), willReconnect: true });
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;

    ws.onopen = () => {
      if (ws !== this.ws) return;
      this._state = 'open';
      this.heartbeat.received();
      const hello: HelloIn = { token };
      if (this.resumeToken) hello.resume = this.resumeToken;
      ws.send(JSON.stringify({ event: 'hello', data: hello }));
      this.dispatch('open', {});
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.onFrame(ev.data);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.onSocketClosed(ev?.code ?? 1006, ev?.reason ?? '');
    };
  }

  private onFrame(raw: unknown): void {
    this.heartbeat.received();
    if (typeof raw !== 'string') return;
    let msg: any;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;

    if (typeof msg.ack === 'number') {
      this.outbox.onAck(msg);
      return;
    }

    if (typeof msg.event !== 'string') return;
    const data = msg.data ?? {};
    if (msg.event === 'welcome') {
      this.onWelcome(data as WelcomeData);
      return;
    }
    if (msg.event === 'error' && data.code === 'unavailable' && this._state !== 'ready') {
      this.unavailableMs = typeof data.retryAfterMs === 'number' ? data.retryAfterMs : 1000;
    }
    this.dispatch(msg.event, data);
  }

  private onWelcome(data: WelcomeData): void {
    this._state = 'ready';
    this.unavailableMs = null;
    this.reconnector.welcomed();
    this.authRetried = false;
    if (typeof data.resumeToken === 'string') this.resumeToken = data.resumeToken;
    if (typeof data.connectionId === 'string') this.connectionId = data.connectionId;
    this.heartbeatMs = typeof data.heartbeatMs === 'number' && data.heartbeatMs > 0 ? data.heartbeatMs : 0;
    this.heartbeat.start(this.opts.heartbeat === false ? 0 : this.heartbeatMs);
    this.outbox.flush();
    this.dispatch('welcome', { ...data, resumed: Boolean(data.resumed) });
  }

  private onSocketClosed(code: number, reason: string): void {
    const ws = this.ws;
    if (ws) this.detach(ws);
    this.ws = null;
    this._state = 'closed';
    this.heartbeat.stop();
    // Requests already on the wire will never be acked.
    this.outbox.failPending('disconnected', 'connection lost', false);

    const plan = afterClose(code, { stopped: this.stopped, authRetried: this.authRetried, unavailableMs: this.unavailableMs });
    if (plan.freshToken) {
      this.authRetried = true;
      this.freshTokenNext = true;
    }
    if (!plan.reconnect) {
      this.stopped = true;
      this.outbox.failPending('closed', `connection closed (${code})`, true);
    }
    this.dispatch('closed', { code, reason, willReconnect: plan.reconnect });
    this.unavailableMs = null;
    if (plan.reconnect) this.scheduleReconnect(plan.fixedDelayMs, plan.unavailableFloorMs);
  }

  private scheduleReconnect(fixedDelay?: number, unavailableFloorMs?: number): void {
    if (this.stopped) return;
    this.reconnector.schedule(fixedDelay, unavailableFloorMs);
  }

  /** The heartbeat heard nothing for too long (e.g. the network changed): drop the socket and reconnect. */
  private dropSilent(): void {
    const ws = this.ws;
    if (!ws) return;
    this.detach(ws);
    try {
      ws.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
    } catch {
      /* ignore */
    }
    this.onSocketClosed(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
  }

  private now(): number {
    return Date.now();
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
  }
}

/** ws(s)://<host>/ws for the current page. */
export function defaultGatewayUrl(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}
