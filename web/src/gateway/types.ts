/**
 * The gateway's contract as the client sees it (WebSocket at /ws, one JSON
 * object per text frame), and its shapes; client.ts re-exports all of it.
 *
 *   client → server  {"event": name, "data": {...}, "id"?: int}
 *   server → client  {"event": name, "data": {...}}
 *   ack              {"ack": id, "ok": true, ...} | {"ack": id, "ok": false, "error": {code, message, reason?, params?}, "retryAfterMs"?}
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
 */
import type { ServerEvents, WelcomeOut } from '../protocol';

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
  /** Why, as a code for the catalogue, when `code` is shared by several causes (a nack's `error.reason`). */
  readonly reason?: string;
  readonly params?: Record<string, string | number>;
  constructor(
    code: string,
    message: string,
    retryAfterMs?: number,
    reason?: { reason: string; params?: Record<string, string | number> },
  ) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    if (reason !== undefined) {
      this.reason = reason.reason;
      this.params = reason.params ?? {};
    }
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

/** The timer functions the client's parts run on (injectable for tests). */
export interface Timers {
  setT: (fn: () => void, ms: number) => unknown;
  clearT: (h: unknown) => void;
}
