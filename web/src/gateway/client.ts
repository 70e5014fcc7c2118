/**
 * GatewayClient — a small client for Connect's realtime gateway
 * (WebSocket at /ws, one JSON object per text frame).
 *
 *   client → server  {"event": name, "data": {...}, "id"?: int}
 *   server → client  {"event": name, "data": {...}}
 *   ack              {"ack": id, "ok": true, ...} | {"ack": id, "ok": false, "error": {code, message}, "retryAfterMs"?}
 *
 * The first frame is always `hello {token, resume?}`; the server answers
 * `welcome {connectionId, resumeToken, heartbeatMs, resumed}`. The newest
 * resumeToken is kept and sent on every reconnect so the server can give the
 * place (queue position or session) back.
 *
 * Lifecycle events are delivered through the same `on()` as server events:
 *   "open"          {}                                 socket open, hello sent
 *   "welcome"       welcome payload                    ready; queued frames flushed
 *   "reconnecting"  {attempt, delayMs, unavailable?, message?}
 *   "closed"        {code, reason, willReconnect}
 *
 * When the server cannot serve for a while (a database or Redis outage) it answers
 * hello with `error {code: "unavailable", retryAfterMs}` and closes with 1013: the
 * client reconnects after at least retryAfterMs (with backoff), and the
 * `reconnecting` notice carries `unavailable: true` and a sentence for the user from
 * the i18n catalogue. A request nacked `unavailable` is sent again after its
 * retryAfterMs (at most `unavailableRetries` times, within its timeout).
 *
 * emit()/request()/on() are typed by event name from ClientEvents/ServerEvents
 * (generated from the server's schema, see src/protocol.gen.ts); names outside
 * those maps (and the lifecycle events) fall back to untyped payloads.
 *
 * Over 400 lines on purpose: connecting, the hello/welcome handshake, resume,
 * backoff after 1012/1013, ack bookkeeping with retry of `unavailable` and the
 * heartbeat all act on one socket's lifecycle; client.test.ts drives them together.
 */

import { t } from '../i18n';
import { announceUnavailable } from '../lib/api';
import type { ClientEvents, HelloIn, ServerEvents, WelcomeOut } from '../protocol';

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketCtor = new (url: string) => WebSocketLike;

export type TokenProvider = (opts?: { fresh?: boolean }) => Promise<string>;

export interface GatewayOptions {
  /** ws:// or wss:// URL (or a function returning it, evaluated on every connect). */
  url: string | (() => string);
  /** Returns a JWT. Called before every connect; `{fresh: true}` after a 4001. */
  getToken: TokenProvider;
  WebSocketImpl?: WebSocketCtor;
  backoff?: { baseMs: number; maxMs: number };
  /** [0, 1) — used for jitter. */
  random?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** Maximum frames buffered while not welcomed (oldest dropped). Default 100. */
  maxQueue?: number;
  /** Default timeout for request(). Default 10 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Send `ping` every heartbeatMs (from welcome) and drop the socket when
   * nothing at all has been received for 2 × heartbeatMs + 5 s. Default true.
   */
  heartbeat?: boolean;
  /** Times a request nacked `unavailable` is sent again (default 2). */
  unavailableRetries?: number;
}

export type WelcomeData = WelcomeOut;

export interface AckOk {
  ack: number;
  ok: true;
  [key: string]: unknown;
}

export interface ClosedInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
}

export interface ReconnectingInfo {
  attempt: number;
  delayMs: number;
  /** The server said it is temporarily unavailable (close 1013 / 1011). */
  unavailable?: boolean;
  /** What to tell the user meanwhile (i18n catalogue), when unavailable. */
  message?: string;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly retryAfterMs?: number;
  constructor(code: string, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** Application close codes defined by the wire contract. */
export const CloseCode = {
  NORMAL: 1000,
  UNAUTHORIZED: 4001,
  BANNED: 4003,
  TOO_SLOW: 4008,
  TOO_LARGE: 4009,
  REPLACED: 4010,
  /** The server failed to handle the connection: reconnect with backoff. */
  INTERNAL_ERROR: 1011,
  /** Try again later: a dependency is down; wait at least the error's retryAfterMs. */
  TRY_AGAIN_LATER: 1013,
  /** Used by this client when it gives up on a silent connection. */
  HEARTBEAT_TIMEOUT: 4000,
} as const;

export type GatewayState = 'idle' | 'connecting' | 'open' | 'ready' | 'closed';

/** Events the client itself dispatches through on(). */
export interface LifecycleEvents {
  open: Record<string, never>;
  welcome: WelcomeData;
  reconnecting: ReconnectingInfo;
  closed: ClosedInfo;
}

/** Everything on() knows the payload of. */
export type GatewayEvents = ServerEvents & LifecycleEvents;

export interface RequestOptions {
  timeoutMs?: number;
}

/** `data` may be left out when the payload has no required field. */
type EmitArgs<P> = {} extends P ? [data?: P] : [data: P];
type RequestArgs<P> = {} extends P ? [data?: P, opts?: RequestOptions] : [data: P, opts?: RequestOptions];
/** A name not in M (so a known event cannot dodge its typed overload). */
type Unknown<E extends string, M> = E extends keyof M ? never : E;

type Handler = (data: any) => void;

interface Pending {
  resolve: (v: AckOk) => void;
  reject: (e: GatewayError) => void;
  timer: unknown;
  sent: boolean;
  frame: string;
  deadline: number;
  retries: number;
}

const OPEN = 1;

export class GatewayClient {
  private readonly opts: GatewayOptions;
  private readonly WS: WebSocketCtor;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxQueue: number;
  private readonly random: () => number;
  private readonly setT: (fn: () => void, ms: number) => unknown;
  private readonly clearT: (h: unknown) => void;

  private ws: WebSocketLike | null = null;
  private _state: GatewayState = 'idle';
  private stopped = true;
  private attempt = 0;
  private authRetried = false;
  private freshTokenNext = false;
  private reconnectTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private lastReceived = 0;
  private heartbeatMs = 0;
  /** retryAfterMs of an `unavailable` error received on the current socket. */
  private unavailableMs: number | null = null;
  /** An "unavailable, reconnecting" notice is showing (cleared by the next welcome). */
  private announced = false;
  private nextId = 1;
  private queue: Array<{ frame: string; id?: number }> = [];
  private pending = new Map<number, Pending>();
  private handlers = new Map<string, Set<Handler>>();

  /** Newest resume token from the server (rotates on every welcome). */
  resumeToken: string | null = null;
  connectionId: string | null = null;

  constructor(opts: GatewayOptions) {
    this.opts = opts;
    const g = globalThis as unknown as { WebSocket?: WebSocketCtor };
    const WS = opts.WebSocketImpl ?? g.WebSocket;
    if (!WS) throw new Error('GatewayClient: no WebSocket implementation available');
    this.WS = WS;
    this.baseMs = opts.backoff?.baseMs ?? 250;
    this.maxMs = opts.backoff?.maxMs ?? 10_000;
    this.maxQueue = opts.maxQueue ?? 100;
    this.random = opts.random ?? Math.random;
    // Resolve the global timers lazily so fake timers installed later still apply.
    this.setT = opts.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clearT = opts.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
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
    this.attempt = 0;
    this.authRetried = false;
    this.freshTokenNext = false;
    void this.open();
  }

  /** Close with 1000 and stop reconnecting. Pending and queued requests are rejected. */
  close(): void {
    const wasActive = !this.stopped;
    this.stopped = true;
    this.clearReconnect();
    this.stopHeartbeat();
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
    this.failPending('closed', 'connection closed', true);
    if (wasActive) this.dispatch('closed', { code: CloseCode.NORMAL, reason: 'client closed', willReconnect: false });
  }

  /** Fire and forget. Buffered (bounded) until the connection is welcomed. */
  emit<K extends keyof ClientEvents>(event: K, ...args: EmitArgs<ClientEvents[K]>): void;
  emit<E extends string>(event: Unknown<E, ClientEvents>, data?: Record<string, unknown>): void;
  emit(event: string, data: object = {}): void {
    const frame = JSON.stringify({ event, data });
    if (this.ready) this.sendRaw(frame);
    else this.enqueue({ frame });
  }

  /** Send with an id and wait for the ack. Rejects with GatewayError on ok:false, timeout or disconnect. */
  request<K extends keyof ClientEvents>(event: K, ...args: RequestArgs<ClientEvents[K]>): Promise<AckOk>;
  request<E extends string>(
    event: Unknown<E, ClientEvents>,
    data?: Record<string, unknown>,
    opts?: RequestOptions,
  ): Promise<AckOk>;
  request(event: string, data: object = {}, opts: RequestOptions = {}): Promise<AckOk> {
    const id = this.nextId++;
    const frame = JSON.stringify({ event, data, id });
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs ?? 10_000;
    return new Promise<AckOk>((resolve, reject) => {
      const timer = this.setT(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.queue = this.queue.filter((q) => q.id !== id);
        reject(new GatewayError('timeout', `no answer to ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const p: Pending = { resolve, reject, timer, sent: false, frame, deadline: this.now() + timeoutMs, retries: 0 };
      this.pending.set(id, p);
      if (this.ready) {
        p.sent = true;
        this.sendRaw(frame);
      } else {
        this.enqueue({ frame, id });
      }
    });
  }

  /** Subscribe to a server event or a lifecycle event. Returns an unsubscribe function. */
  on<K extends keyof GatewayEvents>(event: K, handler: (data: GatewayEvents[K]) => void): () => void;
  on<E extends string>(event: Unknown<E, GatewayEvents>, handler: Handler): () => void;
  on(event: string, handler: Handler): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
    return () => {
      set!.delete(handler);
    };
  }

  // ---------------------------------------------------------------- internals

  private dispatch(event: string, data: unknown): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(data);
      } catch (err) {
        // A failing handler must not break the client.
        console.error(`GatewayClient: handler for "${event}" threw`, err);
      }
    }
  }

  private enqueue(item: { frame: string; id?: number }): void {
    this.queue.push(item);
    while (this.queue.length > this.maxQueue) {
      const dropped = this.queue.shift()!;
      if (dropped.id !== undefined) this.rejectPending(dropped.id, 'queue-full', 'send queue full');
    }
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
      this.lastReceived = this.now();
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
    this.lastReceived = this.now();
    if (typeof raw !== 'string') return;
    let msg: any;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;

    if (typeof msg.ack === 'number') {
      const p = this.pending.get(msg.ack);
      if (!p) return;
      const retryMs = typeof msg.retryAfterMs === 'number' ? msg.retryAfterMs : undefined;
      if (!msg.ok && msg.error?.code === 'unavailable' && this.retryLater(msg.ack, p, retryMs ?? 1000)) return;
      this.pending.delete(msg.ack);
      this.clearT(p.timer);
      if (msg.ok) {
        p.resolve(msg as AckOk);
      } else {
        const e = msg.error ?? {};
        p.reject(
          new GatewayError(
            String(e.code ?? 'error'),
            String(e.message ?? 'request failed'),
            typeof msg.retryAfterMs === 'number' ? msg.retryAfterMs : undefined,
          ),
        );
      }
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

  /**
   * Send a request nacked `unavailable` again after `retryMs` (plus jitter), when it
   * has retries left and the answer can still come within its timeout.
   */
  private retryLater(id: number, p: Pending, retryMs: number): boolean {
    const max = this.opts.unavailableRetries ?? 2;
    const delay = Math.round(retryMs * (1 + 0.5 * this.random()));
    if (p.retries >= max || this.now() + delay >= p.deadline) return false;
    p.retries += 1;
    p.sent = false;
    this.setT(() => {
      if (this.pending.get(id) !== p) return; // settled meanwhile (timeout, close)
      if (this.ready) {
        p.sent = true;
        this.sendRaw(p.frame);
      } else {
        this.enqueue({ frame: p.frame, id });
      }
    }, delay);
    return true;
  }

  private onWelcome(data: WelcomeData): void {
    this._state = 'ready';
    this.unavailableMs = null;
    if (this.announced) {
      this.announced = false;
      announceUnavailable({ active: false, retryInMs: 0, message: '' });
    }
    this.attempt = 0;
    this.authRetried = false;
    if (typeof data.resumeToken === 'string') this.resumeToken = data.resumeToken;
    if (typeof data.connectionId === 'string') this.connectionId = data.connectionId;
    this.heartbeatMs = typeof data.heartbeatMs === 'number' && data.heartbeatMs > 0 ? data.heartbeatMs : 0;
    this.startHeartbeat();
    // Flush frames buffered while not welcomed, in order.
    const queued = this.queue;
    this.queue = [];
    for (const item of queued) {
      if (item.id !== undefined) {
        const p = this.pending.get(item.id);
        if (!p) continue; // timed out meanwhile
        p.sent = true;
      }
      this.sendRaw(item.frame);
    }
    this.dispatch('welcome', { ...data, resumed: Boolean(data.resumed) });
  }

  private onSocketClosed(code: number, reason: string): void {
    const ws = this.ws;
    if (ws) this.detach(ws);
    this.ws = null;
    this._state = 'closed';
    this.stopHeartbeat();
    // Requests already on the wire will never be acked.
    this.failPending('disconnected', 'connection lost', false);

    let willReconnect = !this.stopped;
    if (code === CloseCode.BANNED || code === CloseCode.REPLACED) willReconnect = false;
    if (code === CloseCode.UNAUTHORIZED) {
      if (this.authRetried) willReconnect = false;
      else {
        this.authRetried = true;
        this.freshTokenNext = true;
      }
    }
    if (!willReconnect) {
      this.stopped = true;
      this.failPending('closed', `connection closed (${code})`, true);
    }
    this.dispatch('closed', { code, reason, willReconnect });
    const unavailable =
      code === CloseCode.TRY_AGAIN_LATER || code === CloseCode.INTERNAL_ERROR || this.unavailableMs !== null;
    const floorMs = unavailable ? (this.unavailableMs ?? 1000) : 0;
    this.unavailableMs = null;
    if (willReconnect) {
      this.scheduleReconnect(code === CloseCode.UNAUTHORIZED ? 0 : undefined, unavailable ? floorMs : undefined);
    }
  }

  /**
   * Reconnect after an exponential backoff with jitter; after an `unavailable`
   * close, never sooner than the server's retryAfterMs (with its own jitter, so
   * the clients of a node that went down do not all come back at once).
   */
  private scheduleReconnect(fixedDelay?: number, unavailableFloorMs?: number): void {
    if (this.stopped) return;
    this.clearReconnect();
    this.attempt += 1;
    let delayMs: number;
    if (fixedDelay !== undefined) delayMs = fixedDelay;
    else {
      const cap = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt - 1, 30));
      // "Equal jitter": between half and all of the capped exponential delay.
      delayMs = Math.round(cap / 2 + (cap / 2) * this.random());
    }
    if (unavailableFloorMs !== undefined) {
      delayMs = Math.max(delayMs, Math.round(unavailableFloorMs * (1 + 0.5 * this.random())));
      const seconds = Math.ceil(delayMs / 1000);
      const message = t('unavailable.reconnecting', { seconds });
      this.dispatch('reconnecting', { attempt: this.attempt, delayMs, unavailable: true, message });
      this.announced = true;
      announceUnavailable({ active: true, retryInMs: delayMs, message });
    } else this.dispatch('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = this.setT(() => {
      this.reconnectTimer = null;
      if (!this.stopped) void this.open();
    }, delayMs);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) {
      this.clearT(this.reconnectTimer);
      this.reconnectTimer = null;
    }
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    if (this.opts.heartbeat === false || !this.heartbeatMs) return;
    const interval = this.heartbeatMs;
    const tick = () => {
      this.heartbeatTimer = null;
      const ws = this.ws;
      if (!ws || this._state !== 'ready') return;
      if (this.now() - this.lastReceived > 2 * interval + 5000) {
        // Silent connection (e.g. the network changed): drop it and reconnect.
        this.detach(ws);
        try {
          ws.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        } catch {
          /* ignore */
        }
        this.ws = ws; // so onSocketClosed treats it as current
        this.onSocketClosed(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        return;
      }
      this.sendRaw(JSON.stringify({ event: 'ping', data: {} }));
      this.heartbeatTimer = this.setT(tick, interval);
    };
    this.heartbeatTimer = this.setT(tick, interval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) {
      this.clearT(this.heartbeatTimer);
      this.heartbeatTimer = null;
    }
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

  private rejectPending(id: number, code: string, message: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.clearT(p.timer);
    p.reject(new GatewayError(code, message));
  }

  /** Reject requests already sent (and, with includeQueued, those still buffered). */
  private failPending(code: string, message: string, includeQueued: boolean): void {
    for (const [id, p] of [...this.pending]) {
      if (p.sent || includeQueued) this.rejectPending(id, code, message);
    }
    if (includeQueued) this.queue = [];
  }
}

/** ws(s)://<host>/ws for the current page. */
export function defaultGatewayUrl(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}
