/**
 * Account session of the visitor app (contacts product).
 *
 * - The refresh token lives in localStorage (a reload stays logged in); the
 *   access token only in memory.
 * - Every REST call sends `Authorization: Bearer <access>`. On a 401 it
 *   refreshes once and retries once. Refreshes are single-flight: concurrent
 *   callers share one `POST /api/auth/refresh` (the server spends the old
 *   refresh token, and reusing it revokes the login). Across tabs the refresh
 *   runs under a Web Lock and always uses the newest token in storage.
 * - When the refresh is refused the session is gone: tokens are dropped and
 *   `onSignedOut` listeners fire.
 * - Password: `changePassword` (logged in; the server ends every other login),
 *   `requestPasswordReset` (always 202, whether the account exists or not) and
 *   `confirmPasswordReset` with the token from the mailed link
 *   (`#/contacts/reset/<token>`); the server then ends every login of the account.
 */
import { t, type MessageKey } from '../i18n';
import { ApiError, fetchRetrying, parseError, safeStorage } from './api';

/** The server's minimum password length (signup, change, reset). */
export const MIN_PASSWORD = 10;

export const REFRESH_KEY = 'connect.refreshToken';

type KV = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface Account {
  id: string;
  email: string;
  displayName: string;
  role: string;
  createdAt: string;
}

export interface LockManagerLike {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
}

export interface AuthOptions {
  fetchImpl?: typeof fetch;
  storage?: KV | null;
  now?: () => number;
  /** Refresh the access token this long before it expires (gateway hello). Default 30 s. */
  marginMs?: number;
  locks?: LockManagerLike | null;
}

function defaultLocks(): LockManagerLike | null {
  const l = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return l && typeof l.request === 'function' ? l : null;
}

export class AuthStore {
  private access: string | null = null;
  private accessExpiresAt = 0;
  private refreshToken: string | null;
  private refreshing: Promise<boolean> | null = null;
  private readonly fetchImpl: typeof fetch;
  private readonly storage: KV | null;
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly locks: LockManagerLike | null;
  private signedOutListeners = new Set<() => void>();

  constructor(opts: AuthOptions = {}) {
    this.fetchImpl = opts.fetchImpl ?? ((...a) => fetch(...a));
    this.storage = opts.storage === undefined ? safeStorage() : opts.storage;
    this.now = opts.now ?? Date.now;
    this.marginMs = opts.marginMs ?? 30_000;
    this.locks = opts.locks === undefined ? defaultLocks() : opts.locks;
    this.refreshToken = this.readStored();
  }

  /** True while a refresh token is known (the session may still turn out to be revoked). */
  get loggedIn(): boolean {
    return Boolean(this.refreshToken || this.access);
  }

  onSignedOut(fn: () => void): () => void {
    this.signedOutListeners.add(fn);
    return () => this.signedOutListeners.delete(fn);
  }

  // ------------------------------------------------------------ auth endpoints

  async signup(email: string, password: string, displayName: string): Promise<Account> {
    const res = await this.raw('POST', '/api/auth/signup', { json: { email, password, displayName } }, null);
    if (!res.ok) throw await parseError(res);
    return (await res.json()) as Account;
  }

  async login(email: string, password: string): Promise<void> {
    const res = await this.raw('POST', '/api/auth/login', { json: { email, password } }, null);
    if (!res.ok) throw await parseError(res);
    this.setTokens((await res.json()) as TokenPair);
  }

  /** Set a new password; the server ends every other login of the account (this one stays). */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.send('POST', '/api/auth/password', { json: { currentPassword, newPassword } });
  }

  /**
   * Ask for a reset mail. The answer (202) says nothing about whether the account exists.
   * Sent once, never retried: a retry could mail twice and spend the per-address limit,
   * and its 503 (`mail_not_configured`) is not a passing outage.
   */
  async requestPasswordReset(email: string): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchImpl('/api/auth/password-reset', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: email.trim() }),
      });
    } catch {
      throw new ApiError(0, 'network', 'Network error — check your connection.');
    }
    if (!res.ok) throw await parseError(res);
  }

  /** Spend a mailed reset token; the server ends every login of that account. */
  async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
    const res = await this.raw('POST', '/api/auth/password-reset/confirm', { json: { token, newPassword } }, null);
    if (!res.ok) throw await parseError(res);
  }

  /** Revoke the refresh token on the server (best effort) and forget the session. */
  async logout(): Promise<void> {
    const refreshToken = this.refreshToken;
    const access = this.access;
    this.clear(false);
    if (!refreshToken) return;
    try {
      await this.raw('POST', '/api/auth/logout', { json: { refreshToken } }, access);
    } catch {
      /* signed out locally anyway */
    }
  }

  /**
   * An access token for the gateway hello: the cached one while it is not close
   * to expiry, otherwise (or with `fresh`) a refreshed one.
   */
  getToken = async (opts?: { fresh?: boolean }): Promise<string> => {
    if (!opts?.fresh && this.access && this.now() < this.accessExpiresAt - this.marginMs) return this.access;
    const used = this.access;
    const ok = await this.refresh(used);
    if (!ok || !this.access) throw new ApiError(401, 'unauthorized', 'Please log in again.');
    return this.access;
  };

  // ------------------------------------------------------------ REST

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body === undefined ? undefined : { json: body });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async upload<T>(path: string, form: FormData): Promise<T> {
    const res = await this.send('POST', path, { form });
    return (await res.json()) as T;
  }

  /** A protected binary (avatar, attachment) fetched with the Authorization header. */
  async blob(path: string): Promise<Blob> {
    const res = await this.send('GET', path);
    return res.blob();
  }

  /** Send with the access token; on a 401 refresh (single-flight) and retry once. */
  async send(method: string, path: string, body?: { json?: unknown; form?: FormData }): Promise<Response> {
    if (!this.access && this.refreshToken) await this.refresh(null);
    const used = this.access;
    let res = await this.raw(method, path, body, used);
    if (res.status === 401 && this.refreshToken !== null) {
      const ok = await this.refresh(used);
      if (ok) res = await this.raw(method, path, body, this.access);
    }
    if (!res.ok) throw await parseError(res);
    return res;
  }

  // ------------------------------------------------------------ internals

  /**
   * Refresh unless someone already did since `used` was handed out.
   * Resolves false when the session is gone (then it is cleared).
   */
  refresh(used: string | null): Promise<boolean> {
    if (this.access && this.access !== used) return Promise.resolve(true);
    if (this.refreshing) return this.refreshing;
    const run = async (): Promise<boolean> => {
      // Another tab may have rotated the token meanwhile: always use the newest one.
      const stored = this.readStored();
      if (stored) this.refreshToken = stored;
      const token = this.refreshToken;
      if (!token) return false;
      let res: Response;
      try {
        res = await this.raw('POST', '/api/auth/refresh', { json: { refreshToken: token } }, null);
      } catch {
        return false; // offline: keep the session, the caller sees the failure
      }
      if (res.ok) {
        this.setTokens((await res.json()) as TokenPair);
        return true;
      }
      if (res.status === 400 || res.status === 401 || res.status === 403) {
        // Unless another tab rotated it while we were asking, the login is gone.
        const latest = this.readStored();
        if (latest && latest !== token) {
          this.refreshToken = latest;
          return false;
        }
        this.clear(true);
      }
      return false;
    };
    const locked = () => (this.locks ? this.locks.request('connect.auth.refresh', run) : run());
    this.refreshing = locked().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private setTokens(t: TokenPair): void {
    this.access = t.accessToken;
    this.accessExpiresAt = this.now() + (Number(t.expiresIn) || 300) * 1000;
    this.refreshToken = t.refreshToken;
    try {
      this.storage?.setItem(REFRESH_KEY, t.refreshToken);
    } catch {
      /* storage disabled: memory only */
    }
  }

  private readStored(): string | null {
    try {
      return this.storage?.getItem(REFRESH_KEY) ?? null;
    } catch {
      return null;
    }
  }

  clear(notify: boolean): void {
    const had = this.loggedIn;
    this.access = null;
    this.accessExpiresAt = 0;
    this.refreshToken = null;
    try {
      this.storage?.removeItem(REFRESH_KEY);
    } catch {
      /* ignore */
    }
    if (notify && had) for (const fn of [...this.signedOutListeners]) fn();
  }

  private async raw(
    method: string,
    path: string,
    body: { json?: unknown; form?: FormData } | undefined,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    let payload: BodyInit | undefined;
    if (body?.form) payload = body.form;
    else if (body && 'json' in body) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body.json);
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetchRetrying(this.fetchImpl, path, { method, headers, body: payload });
    } catch {
      throw new ApiError(0, 'network', 'Network error — check your connection.');
    }
  }
}

/** The reset token of a `#/contacts/reset/<token>` link, or null. */
export function resetTokenOf(hash: string): string | null {
  const m = /^#?\/contacts\/reset\/([A-Za-z0-9_-]{20,128})\/?$/.exec(hash);
  return m ? m[1]! : null;
}

/**
 * Why a new password cannot be sent yet (the catalogue key), or null when it can:
 * at least MIN_PASSWORD characters, and typed the same twice.
 */
export function newPasswordProblem(password: string, repeated: string): MessageKey | null {
  if (password.length < MIN_PASSWORD) return 'account.err.tooShort';
  if (password !== repeated) return 'account.err.mismatch';
  return null;
}

const ERROR_KEYS: Record<string, MessageKey> = {
  wrong_password: 'account.err.wrongPassword',
  invalid_reset_token: 'account.err.invalidResetToken',
  mail_not_configured: 'account.err.mailUnavailable',
  rate_limited: 'account.err.rateLimited',
  network: 'account.err.network',
  invalid_credentials: 'account.err.invalidCredentials',
  email_taken: 'account.err.emailTaken',
  unavailable: 'unavailable.failed',
};

/** A failed account request, said in the user's language (by the error's code). */
export function accountErrorText(err: unknown): string {
  if (!(err instanceof ApiError)) return t('account.err.generic');
  const key = ERROR_KEYS[err.code] ?? (err.code === 'forbidden' ? 'account.err.disabled' : undefined);
  return key ? t(key) : t('account.err.generic');
}
