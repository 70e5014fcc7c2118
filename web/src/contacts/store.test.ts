/** The contacts controller's store part (store.ts): login, the account, blocks and reports. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ME, BOB, CH, res, flush, setup, loggedIn, page } from './controllerHarness';

beforeEach(() => {
  page.visible = true;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('ContactsController account', () => {
  it('logs in and says hello with the access token', async () => {
    const { c, ws } = await loggedIn();
    expect(c.getState()).toMatchObject({ auth: 'loggedIn', gateway: 'ready' });
    expect(c.getState().me?.displayName).toBe('Me');
    expect(ws.sent[0]).toEqual({ event: 'hello', data: { token: 'A1' } });
    expect(c.getState().channels).toHaveLength(1);
  });

  it('shows a failed login by its error code, in the UI language', async () => {
    const { c } = setup({
      'POST /api/auth/login': () => res(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password' } }),
    });
    await c.login('me@x.io', 'nope');
    expect(c.getState().auth).toBe('checking');
    const { noteText } = await import('./model');
    const { setLocale, getLocale } = await import('../i18n');
    const before = getLocale();
    try {
      setLocale('en');
      expect(noteText(c.getState().authError!)).toBe('Wrong email or password.'); // said by its code
      setLocale('de'); // the line on screen follows a language switch
      expect(noteText(c.getState().authError!)).toBe('E-Mail oder Passwort ist falsch.');
    } finally {
      setLocale(before);
    }
  });

  it('finds my own avatar after login, and the profile notice fades', async () => {
    const { c } = await loggedIn({
      ['GET /api/users/' + ME + '/avatar']: () => new Response(new Blob(['png']), { status: 200 }),
      'PUT /api/auth/profile': () => res(200, { id: ME, email: 'me@x.io', displayName: 'New', role: 'user', createdAt: 'x' }),
    });
    await flush();
    expect(c.getState().myAvatarUrl).toBe(`/api/users/${ME}/avatar`);
    await c.saveProfile('New');
    expect(c.getState().profileNotice).toBeTruthy();
    vi.advanceTimersByTime(5000);
    expect(c.getState().profileNotice).toBeNull();
  });

  it('a login error does not follow onto the sign-up form', async () => {
    const t = setup({ 'POST /api/auth/login': () => res(401, { error: 'invalid_credentials', message: 'Wrong email or password' }) });
    await t.c.login('me@x.io', 'bad password');
    expect(t.c.getState().authError).toBeTruthy();
    t.c.clearAuthError();
    expect(t.c.getState().authError).toBeNull();
  });
});

describe('ContactsController safety', () => {
  it('loads the block list at login', async () => {
    const { c } = await loggedIn({
      'GET /api/blocks': () => res(200, { blocks: [{ user: BOB, createdAt: '2025-01-01T00:00:00Z' }] }),
    });
    expect(c.getState().blocks.map((b) => b.user.id)).toEqual([BOB.id]);
    expect(c.isBlocked(BOB.id)).toBe(true);
  });

  it('blocks: POSTs, marks the conversation blocked, lists the block; unblock reverts', async () => {
    let blocked = false;
    const { c, calls } = await loggedIn({
      'GET /api/users': () => res(200, { users: [BOB] }),
      'GET /api/blocks': () => res(200, { blocks: blocked ? [{ user: BOB, createdAt: '2025-01-01T00:00:00Z' }] : [] }),
      'POST /api/users/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/block': () => {
        blocked = true;
        return res(204);
      },
      'DELETE /api/users/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/block': () => {
        blocked = false;
        return res(204);
      },
    });
    await c.search('Bob');
    expect(c.getState().searchResults).toHaveLength(1);
    expect(await c.block(BOB)).toBe(true);
    await flush();
    expect(calls.some((x) => x.method === 'POST' && x.path === `/api/users/${BOB.id}/block`)).toBe(true);
    expect(c.channel(CH)?.blocked).toBe(true);
    expect(c.getState().searchResults).toHaveLength(1); // still findable by the blocker, to unblock
    expect(c.getState().blocks.map((b) => b.user.id)).toEqual([BOB.id]);

    expect(await c.unblock(BOB.id)).toBe(true);
    await flush();
    expect(calls.some((x) => x.method === 'DELETE' && x.path === `/api/users/${BOB.id}/block`)).toBe(true);
    expect(c.channel(CH)?.blocked).toBe(false);
    expect(c.getState().blocks).toEqual([]);
    expect(c.isBlocked(BOB.id)).toBe(false);
  });

  it('a refused block says why (by the error code) and changes nothing', async () => {
    const { c } = await loggedIn({
      'POST /api/users/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/block': () => res(429, { error: { code: 'rate_limited', message: 'too many requests' } }),
    });
    expect(await c.block(BOB)).toBe(false);
    const { noteText } = await import('./model');
    expect(noteText(c.getState().error!)).toBe('You are doing that too often.'); // errors.rate_limited
    expect(c.channel(CH)?.blocked).toBeFalsy();
  });

  it('reports a message or the person with channelId, reason and a trimmed comment', async () => {
    const { c, calls } = await loggedIn({ 'POST /api/reports': () => res(201, { id: 'r1', status: 'pending' }) });
    await c.report({ channelId: CH, messageId: 'm1', reason: 'harassment', comment: '  rude  ' });
    await c.report({ channelId: CH, reason: 'spam', comment: '   ' });
    const sent = calls.filter((x) => x.path === '/api/reports').map((x) => x.body);
    expect(sent).toEqual([
      { channelId: CH, messageId: 'm1', reason: 'harassment', comment: 'rude' },
      { channelId: CH, reason: 'spam' },
    ]);
  });

  it('a refused report rejects with the server message', async () => {
    const { c } = await loggedIn({
      'POST /api/reports': () => res(409, { error: { code: 'already_reported', message: 'you already reported this message' } }),
    });
    await expect(c.report({ channelId: CH, messageId: 'm1', reason: 'spam' })).rejects.toThrow('you already reported this message');
  });
});
