import { describe, expect, it, vi } from 'vitest';
import { AdminApi } from './api';

class MemStore {
  m = new Map<string, string>();
  getItem = (k: string) => this.m.get(k) ?? null;
  setItem = (k: string, v: string) => void this.m.set(k, v);
  removeItem = (k: string) => void this.m.delete(k);
}

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

type Call = { url: string; method: string; auth: string | null; body: any };

function fakeFetch(handler: (c: Call) => Response) {
  const calls: Call[] = [];
  const f = vi.fn(async (url: string, init: RequestInit) => {
    const h = (init.headers ?? {}) as Record<string, string>;
    const c = { url, method: init.method ?? 'GET', auth: h.Authorization ?? null, body: init.body ? JSON.parse(String(init.body)) : null };
    calls.push(c);
    return handler(c);
  });
  return { f: f as unknown as typeof fetch, calls };
}

describe('AdminApi', () => {
  it('logs in, stores the tokens in sessionStorage and sends the bearer token', async () => {
    const store = new MemStore();
    const { f, calls } = fakeFetch((c) =>
      c.url === '/api/auth/login'
        ? json(200, { accessToken: 'a1', refreshToken: 'r1', expiresIn: 900 })
        : json(200, { id: 'u', email: 'm@x', displayName: 'M', role: 'moderator', createdAt: '' }),
    );
    const api = new AdminApi(f, store);
    await api.login('m@x', 'pw');
    expect(store.getItem('connect.admin.accessToken')).toBe('a1');
    expect((await api.me()).role).toBe('moderator');
    expect(calls[1]).toMatchObject({ url: '/api/auth/me', method: 'GET', auth: 'Bearer a1' });
    expect(new AdminApi(f, store).hasSession).toBe(true);
  });

  it('refreshes once on 401 and retries', async () => {
    const store = new MemStore();
    store.setItem('connect.admin.accessToken', 'old');
    store.setItem('connect.admin.refreshToken', 'r1');
    const { f, calls } = fakeFetch((c) => {
      if (c.url === '/api/auth/refresh') return json(200, { accessToken: 'new', refreshToken: 'r2', expiresIn: 900 });
      if (c.auth === 'Bearer old') return json(401, { error: { code: 'token_expired', message: 'expired' } });
      return json(200, { ok: 1 });
    });
    const api = new AdminApi(f, store);
    const [a, b] = await Promise.all([api.get('/api/admin/stats'), api.get('/api/admin/bans')]);
    expect(a).toEqual({ ok: 1 });
    expect(b).toEqual({ ok: 1 });
    expect(calls.filter((c) => c.url === '/api/auth/refresh')).toHaveLength(1);
    expect(calls.find((c) => c.url === '/api/auth/refresh')!.body).toEqual({ refreshToken: 'r1' });
    expect(store.getItem('connect.admin.refreshToken')).toBe('r2');
  });

  it('signs out when the refresh fails', async () => {
    const store = new MemStore();
    store.setItem('connect.admin.accessToken', 'old');
    store.setItem('connect.admin.refreshToken', 'r1');
    const { f } = fakeFetch(() => json(401, { error: { code: 'invalid_token', message: 'nope' } }));
    const api = new AdminApi(f, store);
    const out = vi.fn();
    api.onSignedOut = out;
    await expect(api.get('/api/admin/stats')).rejects.toMatchObject({ status: 401, message: 'nope' });
    expect(out).toHaveBeenCalledTimes(1);
    expect(api.hasSession).toBe(false);
    expect(store.getItem('connect.admin.accessToken')).toBeNull();
  });

  it('surfaces error messages and 204s', async () => {
    const { f } = fakeFetch((c) =>
      c.url === '/api/auth/logout' ? new Response(null, { status: 204 }) : json(409, { error: { code: 'already_resolved', message: 'Already resolved' } }),
    );
    const api = new AdminApi(f, new MemStore());
    await expect(api.post('/api/admin/reports/1/resolve', { action: 'reject' })).rejects.toMatchObject({
      code: 'already_resolved',
      message: 'Already resolved',
    });
    await api.logout();
  });
});
