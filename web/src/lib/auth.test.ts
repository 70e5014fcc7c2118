import { describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { accountErrorText, AuthStore, newPasswordProblem, REFRESH_KEY, resetTokenOf, type LockManagerLike } from './auth';

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

const json = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** A fake server: access tokens "A<n>", refresh tokens "R<n>"; a spent refresh token is refused. */
function server() {
  let n = 1;
  const valid = new Set<string>(['A1']);
  const refreshes = new Set<string>(['R1']);
  const calls: Array<{ path: string; auth: string | null; body: any }> = [];
  const fetchImpl = vi.fn(async (path: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const auth = headers.Authorization ?? null;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : init.body;
    calls.push({ path, auth, body });
    await Promise.resolve();
    if (path === '/api/auth/login') {
      if (body.password !== 'correct horse') return json(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password' } });
      return json(200, { accessToken: 'A1', refreshToken: 'R1', expiresIn: 900 });
    }
    if (path === '/api/auth/refresh') {
      if (!refreshes.has(body.refreshToken)) return json(401, { error: { code: 'invalid_token', message: 'refresh token revoked' } });
      refreshes.delete(body.refreshToken);
      n += 1;
      valid.add(`A${n}`);
      refreshes.add(`R${n}`);
      return json(200, { accessToken: `A${n}`, refreshToken: `R${n}`, expiresIn: 900 });
    }
    const token = auth?.replace('Bearer ', '') ?? '';
    if (!valid.has(token)) return json(401, { error: { code: 'unauthorized', message: 'token expired' } });
    return json(200, { ok: true, path });
  });
  return { fetchImpl, calls, valid, expire: (t: string) => valid.delete(t) };
}

describe('AuthStore', () => {
  it('keeps the refresh token in storage and the access token in memory', async () => {
    const srv = server();
    const storage = new MemStorage();
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage, locks: null });
    await auth.login('a@example.com', 'correct horse');
    expect(storage.getItem(REFRESH_KEY)).toBe('R1');
    expect([...storage.m.values()]).not.toContain('A1');
    expect(await auth.json('GET', '/api/auth/me')).toEqual({ ok: true, path: '/api/auth/me' });
    expect(srv.calls.at(-1)!.auth).toBe('Bearer A1');
  });

  it('shows the server message on a failed login', async () => {
    const srv = server();
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null });
    await expect(auth.login('a@example.com', 'nope')).rejects.toMatchObject({ code: 'invalid_credentials', message: 'Wrong email or password' });
    expect(auth.loggedIn).toBe(false);
  });

  it('refreshes once for concurrent 401s (single-flight) and retries each request', async () => {
    const srv = server();
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null });
    await auth.login('a@example.com', 'correct horse');
    srv.expire('A1');
    const results = await Promise.all([auth.json('GET', '/x'), auth.json('GET', '/y'), auth.json('GET', '/z')]);
    expect(results.map((r: any) => r.path)).toEqual(['/x', '/y', '/z']);
    expect(srv.calls.filter((c) => c.path === '/api/auth/refresh')).toHaveLength(1);
    expect(srv.calls.filter((c) => c.auth === 'Bearer A2').map((c) => c.path).sort()).toEqual(['/x', '/y', '/z']);
  });

  it('restores the session after a reload from the stored refresh token', async () => {
    const srv = server();
    const storage = new MemStorage();
    storage.setItem(REFRESH_KEY, 'R1');
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage, locks: null });
    expect(auth.loggedIn).toBe(true);
    await auth.json('GET', '/api/auth/me');
    expect(srv.calls.map((c) => c.path)).toEqual(['/api/auth/refresh', '/api/auth/me']);
    expect(storage.getItem(REFRESH_KEY)).toBe('R2');
  });

  it('uses the newest stored refresh token (another tab rotated it) under the lock', async () => {
    const srv = server();
    const storage = new MemStorage();
    const order: string[] = [];
    const locks: LockManagerLike = {
      request: async (name, cb) => {
        order.push(name);
        return cb();
      },
    };
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage, locks });
    await auth.login('a@example.com', 'correct horse');
    // Another tab refreshed: R1 is spent, R2 is in storage.
    const other = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage, locks: null });
    await other.getToken({ fresh: true });
    expect(storage.getItem(REFRESH_KEY)).toBe('R2');
    srv.expire('A1');
    await auth.json('GET', '/p');
    const refreshBodies = srv.calls.filter((c) => c.path === '/api/auth/refresh').map((c) => c.body.refreshToken);
    expect(refreshBodies).toEqual(['R1', 'R2']);
    expect(order).toEqual(['connect.auth.refresh']);
    expect(auth.loggedIn).toBe(true);
  });

  it('signs out when the refresh token is refused', async () => {
    const srv = server();
    const storage = new MemStorage();
    storage.setItem(REFRESH_KEY, 'R-bogus');
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage, locks: null });
    const out = vi.fn();
    auth.onSignedOut(out);
    await expect(auth.json('GET', '/api/auth/me')).rejects.toMatchObject({ status: 401 });
    expect(out).toHaveBeenCalledTimes(1);
    expect(storage.getItem(REFRESH_KEY)).toBeNull();
    expect(auth.loggedIn).toBe(false);
  });

  it('getToken returns the cached access token until close to expiry', async () => {
    const srv = server();
    let now = 0;
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null, now: () => now });
    await auth.login('a@example.com', 'correct horse');
    expect(await auth.getToken()).toBe('A1');
    now = 900_000 - 10_000; // inside the 30 s margin
    expect(await auth.getToken()).toBe('A2');
    expect(await auth.getToken({ fresh: true })).toBe('A3');
  });

  it('logout revokes the refresh token and forgets it', async () => {
    const srv = server();
    const storage = new MemStorage();
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage, locks: null });
    await auth.login('a@example.com', 'correct horse');
    await auth.logout();
    const call = srv.calls.at(-1)!;
    expect(call).toMatchObject({ path: '/api/auth/logout', auth: 'Bearer A1', body: { refreshToken: 'R1' } });
    expect(storage.getItem(REFRESH_KEY)).toBeNull();
    expect(auth.loggedIn).toBe(false);
  });
});

describe('password change and reset', () => {
  it('changes the password with the access token and refreshes once on a 401', async () => {
    const srv = server();
    const auth = new AuthStore({ fetchImpl: srv.fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null });
    await auth.login('a@example.com', 'correct horse');
    srv.expire('A1');
    await auth.changePassword('correct horse', 'a new password');
    const sent = srv.calls.filter((c) => c.path === '/api/auth/password');
    expect(sent.map((c) => c.auth)).toEqual(['Bearer A1', 'Bearer A2']);
    expect(sent[1]!.body).toEqual({ currentPassword: 'correct horse', newPassword: 'a new password' });
  });

  it('reports a wrong current password by its code', async () => {
    const fetchImpl = vi.fn(async (path: string) =>
      path === '/api/auth/login'
        ? json(200, { accessToken: 'A1', refreshToken: 'R1', expiresIn: 900 })
        : json(403, { error: { code: 'wrong_password', message: 'the current password is wrong' } }),
    );
    const auth = new AuthStore({ fetchImpl: fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null });
    await auth.login('a@example.com', 'x');
    const err = await auth.changePassword('bad', 'a new password').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'wrong_password', status: 403 });
    expect(accountErrorText(err)).toBe('The current password is wrong.');
    expect(auth.loggedIn).toBe(true);
  });

  it('asks for a reset without a token, once, even when the server answers 503', async () => {
    const calls: Array<{ path: string; init: RequestInit }> = [];
    const fetchImpl = vi.fn(async (path: string, init: RequestInit = {}) => {
      calls.push({ path, init });
      return json(503, { error: { code: 'mail_not_configured', message: 'no mail' } });
    });
    const auth = new AuthStore({ fetchImpl: fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null });
    const err = await auth.requestPasswordReset('  a@example.com ').catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ email: 'a@example.com' });
    expect((calls[0]!.init.headers as Record<string, string>).Authorization).toBeUndefined();
    expect(accountErrorText(err)).toBe('Password reset by mail is not available on this server. Please ask an administrator.');
  });

  it('confirms a reset with the token and says an expired link plainly', async () => {
    const bodies: unknown[] = [];
    const fetchImpl = vi.fn(async (_path: string, init: RequestInit = {}) => {
      bodies.push(JSON.parse(init.body as string));
      return bodies.length === 1
        ? new Response(null, { status: 204 })
        : json(400, { error: { code: 'invalid_reset_token', message: 'used' } });
    });
    const auth = new AuthStore({ fetchImpl: fetchImpl as unknown as typeof fetch, storage: new MemStorage(), locks: null });
    await auth.confirmPasswordReset('T'.repeat(43), 'a new password');
    expect(bodies[0]).toEqual({ token: 'T'.repeat(43), newPassword: 'a new password' });
    const err = await auth.confirmPasswordReset('T'.repeat(43), 'a new password').catch((e: unknown) => e);
    expect(accountErrorText(err)).toBe('This reset link is invalid, already used or expired. Ask for a new one.');
  });

  it('reads the token of a mailed link and nothing else', () => {
    const token = 'aB3_-'.repeat(8);
    expect(resetTokenOf(`#/contacts/reset/${token}`)).toBe(token);
    expect(resetTokenOf(`/contacts/reset/${token}/`)).toBe(token);
    expect(resetTokenOf('#/contacts/reset/short')).toBeNull();
    expect(resetTokenOf(`#/contacts/reset/${token}<script>`)).toBeNull();
    expect(resetTokenOf(`#/contacts/c/${token}`)).toBeNull();
  });

  it('checks a new password before sending it', () => {
    expect(newPasswordProblem('short', 'short')).toBe('account.err.tooShort');
    expect(newPasswordProblem('long enough 1', 'long enough 2')).toBe('account.err.mismatch');
    expect(newPasswordProblem('long enough!', 'long enough!')).toBeNull();
  });

  it('says every known refusal in the catalogue, anything else generically', () => {
    expect(accountErrorText(new ApiError(429, 'rate_limited', 'too many requests', 1000))).toBe('Too many attempts. Please try again later.');
    expect(accountErrorText(new ApiError(403, 'forbidden', 'this account is disabled'))).toBe('This account is disabled.');
    expect(accountErrorText(new ApiError(500, 'internal_error', 'Traceback...'))).toBe('Something went wrong. Please try again.');
    expect(accountErrorText(new Error('boom'))).toBe('Something went wrong. Please try again.');
  });
});
