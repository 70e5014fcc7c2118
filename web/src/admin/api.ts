/**
 * REST client of the moderation dashboard.
 *
 * Access/refresh tokens live in sessionStorage (per tab, gone when it closes).
 * Every call sends `Authorization: Bearer <access>`; on a 401 it refreshes once
 * (`POST /api/auth/refresh`, shared by concurrent callers) and retries; when that
 * fails too the tokens are dropped and `onSignedOut` fires (→ login screen).
 */
import { ApiError, fetchRetrying, parseError } from '../lib/api';
import type { Account, Tokens } from './types';

const ACCESS_KEY = 'connect.admin.accessToken';
const REFRESH_KEY = 'connect.admin.refreshToken';

type KV = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function sessionStore(): KV | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export class AdminApi {
  private access: string | null;
  private refresh: string | null;
  private refreshing: Promise<boolean> | null = null;
  /** Called when the session is gone for good (refresh failed). */
  onSignedOut: (() => void) | null = null;

  constructor(
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
    private readonly storage: KV | null = sessionStore(),
  ) {
    this.access = storage?.getItem(ACCESS_KEY) ?? null;
    this.refresh = storage?.getItem(REFRESH_KEY) ?? null;
  }

  get hasSession(): boolean {
    return Boolean(this.access || this.refresh);
  }

  async login(email: string, password: string): Promise<void> {
    const res = await this.fetchOnce('POST', '/api/auth/login', { email, password }, null);
    if (!res.ok) throw await parseError(res);
    this.setTokens((await res.json()) as Tokens);
  }

  async logout(): Promise<void> {
    const refreshToken = this.refresh;
    this.clear();
    if (!refreshToken) return;
    try {
      await this.fetchOnce('POST', '/api/auth/logout', { refreshToken }, null);
    } catch {
      /* signed out locally anyway */
    }
  }

  me(): Promise<Account> {
    return this.get<Account>('/api/auth/me');
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  del<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A binary resource (e.g. report evidence) fetched with the Authorization header. */
  async blob(path: string): Promise<Blob> {
    const res = await this.send('GET', path);
    return res.blob();
  }

  // ------------------------------------------------------------ internals

  private setTokens(t: Tokens): void {
    this.access = t.accessToken;
    this.refresh = t.refreshToken;
    try {
      this.storage?.setItem(ACCESS_KEY, t.accessToken);
      this.storage?.setItem(REFRESH_KEY, t.refreshToken);
    } catch {
      /* storage full / disabled: keep them in memory */
    }
  }

  clear(): void {
    this.access = null;
    this.refresh = null;
    try {
      this.storage?.removeItem(ACCESS_KEY);
      this.storage?.removeItem(REFRESH_KEY);
    } catch {
      /* ignore */
    }
  }

  private async fetchOnce(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetchRetrying(this.fetchImpl, path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'Network error — is the server running?');
    }
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const used = this.access;
    let res = await this.fetchOnce(method, path, body, used);
    if (res.status === 401) {
      // Someone else may have refreshed meanwhile; otherwise refresh now (once).
      const ok = this.access && this.access !== used ? true : await this.tryRefresh();
      if (ok) res = await this.fetchOnce(method, path, body, this.access);
      if (res.status === 401) {
        const err = await parseError(res);
        this.clear();
        this.onSignedOut?.();
        throw err;
      }
    }
    if (!res.ok) throw await parseError(res);
    return res;
  }

  private tryRefresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    const refreshToken = this.refresh;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        const res = await this.fetchOnce('POST', '/api/auth/refresh', { refreshToken }, null);
        if (!res.ok) return false;
        this.setTokens((await res.json()) as Tokens);
        return true;
      } catch {
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
