import type { ApiErrorBody, AppealCreated, Banned, ReportReason } from '../protocol';
import { t } from '../i18n';

const DEVICE_KEY = 'connect.deviceId';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfterMs?: number;
  /** The ban, when code is `banned` (403 from POST /api/auth/token). */
  readonly ban?: Banned;
  /** Why, as a code for the catalogue, when `code` is generic (e.g. `invalid_request`). */
  readonly reason?: string;
  readonly params?: Record<string, string | number>;
  constructor(
    status: number,
    code: string,
    message: string,
    retryAfterMs?: number,
    ban?: Banned,
    reason?: { reason: string; params?: Record<string, string | number> },
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    if (ban !== undefined) this.ban = ban;
    if (reason !== undefined) {
      this.reason = reason.reason;
      this.params = reason.params ?? {};
    }
  }
}

export function newDeviceId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID().replace(/-/g, '');
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function isValidDeviceId(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(v);
}

/** A random device id kept in localStorage (falls back to an in-memory one). */
export function getDeviceId(storage: Pick<Storage, 'getItem' | 'setItem'> | null = safeStorage()): string {
  const existing = storage?.getItem(DEVICE_KEY);
  if (isValidDeviceId(existing)) return existing;
  const id = newDeviceId();
  try {
    storage?.setItem(DEVICE_KEY, id);
  } catch {
    /* private mode */
  }
  return id;
}

export function safeStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The ApiError for a non-2xx response (`{"error": {code, message}}`, + retryAfterMs / ban). */
export async function parseError(res: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | null = null;
  try {
    body = (await res.json()) as Partial<ApiErrorBody>;
  } catch {
    /* not JSON */
  }
  const code = body?.error?.code ?? `http_${res.status}`;
  // 503 `unavailable` (a dependency is down): the user is told in their language.
  const message =
    code === 'unavailable' ? t('unavailable.failed') : (body?.error?.message ?? `Request failed (${res.status})`);
  const ban = body?.ban && typeof body.ban === 'object' ? body.ban : undefined;
  const why = typeof body?.error?.reason === 'string' ? { reason: body.error.reason, params: body.error.params } : undefined;
  return new ApiError(res.status, code, message, body?.retryAfterMs ?? retryAfterHeader(res), ban, why);
}

function retryAfterHeader(res: Response): number | undefined {
  const secs = Number(res.headers?.get?.('Retry-After'));
  return Number.isFinite(secs) && secs > 0 ? secs * 1000 : undefined;
}

/** What the UI is told while a request waits to be retried after a 503. */
export interface UnavailableNotice {
  /** True while a retry is pending; false once an answer other than 503 arrived. */
  active: boolean;
  /** Delay before the next attempt. */
  retryInMs: number;
  /** The sentence to show (from the i18n catalogue). */
  message: string;
}

type NoticeListener = (n: UnavailableNotice) => void;
const noticeListeners = new Set<NoticeListener>();

/** Subscribe to "the service is unavailable, retrying" notices (a banner shows them). */
export function onUnavailable(listener: NoticeListener): () => void {
  noticeListeners.add(listener);
  return () => {
    noticeListeners.delete(listener);
  };
}

/** Tell the listeners (the banner) about a wait for an unavailable server, or its end. */
export function announceUnavailable(n: UnavailableNotice): void {
  for (const l of [...noticeListeners]) {
    try {
      l(n);
    } catch {
      /* a broken listener must not break requests */
    }
  }
}

export interface RetryOptions {
  /** Attempts after the first (default 3). */
  retries?: number;
  /** Exponential backoff floor and cap (defaults 500 ms and 10 s). */
  baseMs?: number;
  maxMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => globalThis.setTimeout(resolve, ms));

/**
 * fetch, retrying a 503 (`unavailable`: the database or Redis is down) with backoff.
 *
 * The wait is the larger of the server's `retryAfterMs` (or Retry-After) and an
 * exponential backoff, with jitter so clients that failed together do not come back
 * together. Safe for every method: a 503 means the server did not do the work (sends
 * carry a clientId, so a retried send is stored once). The last response, 503 or not,
 * goes back to the caller; `onUnavailable` listeners hear about each wait.
 */
export async function fetchRetrying(
  fetchImpl: typeof fetch,
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  opts: RetryOptions = {},
): Promise<Response> {
  const retries = opts.retries ?? 3;
  const baseMs = opts.baseMs ?? 500;
  const maxMs = opts.maxMs ?? 10_000;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  let waited = false;
  for (let attempt = 0; ; attempt++) {
    const res = await fetchImpl(input, init);
    if (res.status !== 503 || attempt >= retries) {
      if (waited) announceUnavailable({ active: false, retryInMs: 0, message: '' });
      return res;
    }
    let hinted: number | undefined;
    try {
      const body = (await res.clone().json()) as Partial<ApiErrorBody>;
      hinted = typeof body?.retryAfterMs === 'number' ? body.retryAfterMs : undefined;
    } catch {
      /* not JSON (a proxy's 503) */
    }
    hinted ??= retryAfterHeader(res);
    const backoff = Math.min(maxMs, baseMs * 2 ** attempt);
    const floor = Math.min(maxMs, Math.max(hinted ?? 0, backoff));
    const delay = Math.round(floor * (1 + 0.5 * random()));
    waited = true;
    announceUnavailable({ active: true, retryInMs: delay, message: t('unavailable.retrying', { seconds: Math.ceil(delay / 1000) }) });
    await sleep(delay);
  }
}

export async function postJson<T>(path: string, body: unknown, token?: string, fetchImpl: typeof fetch = fetch): Promise<T> {
  let res: Response;
  try {
    res = await fetchRetrying(fetchImpl, path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Network error — check your connection.');
  }
  if (!res.ok) throw await parseError(res);
  return (await res.json()) as T;
}

/**
 * Guest token provider: caches the 5-minute guest JWT and fetches a new one
 * when it is within `marginMs` of expiry, or when asked for a fresh one.
 * Concurrent callers share one request.
 */
export class GuestTokens {
  private token: string | null = null;
  private expiresAt = 0;
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly deviceId: string,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
    private readonly now: () => number = Date.now,
    private readonly marginMs = 60_000,
  ) {}

  get = async (opts?: { fresh?: boolean }): Promise<string> => {
    if (!opts?.fresh && this.token && this.now() < this.expiresAt - this.marginMs) return this.token;
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      try {
        const r = await postJson<{ token: string; expiresIn: number }>(
          '/api/auth/token',
          { deviceId: this.deviceId },
          undefined,
          this.fetchImpl,
        );
        this.token = r.token;
        this.expiresAt = this.now() + (Number(r.expiresIn) || 300) * 1000;
        return r.token;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  };
}

export interface ReportResult {
  id: string;
  status: string;
}

export function postReport(
  token: string,
  report: { sessionId: string; reason: ReportReason; comment?: string; evidence?: string | null; avoid?: boolean },
  fetchImpl: typeof fetch = (...a) => fetch(...a),
): Promise<ReportResult> {
  // `avoid` (ext): "don't match me with this person again" (the server's default is true).
  const body: Record<string, unknown> = { sessionId: report.sessionId, reason: report.reason, avoid: report.avoid ?? true };
  const comment = report.comment?.trim();
  if (comment) body.comment = comment;
  // One JPEG frame of the remote video as a data: URL (see lib/evidence.ts).
  if (report.evidence) body.evidence = report.evidence;
  return postJson<ReportResult>('/api/reports', body, token, fetchImpl);
}

/** POST /api/appeals {appealToken, text} → 201 {id, status}; 409 already_appealed. No bearer token (the visitor is banned). */
export function postAppeal(
  appealToken: string,
  text: string,
  fetchImpl: typeof fetch = (...a) => fetch(...a),
): Promise<AppealCreated> {
  return postJson<AppealCreated>('/api/appeals', { appealToken, text }, undefined, fetchImpl);
}
