import { useEffect, useState, type FormEvent } from 'react';
import type { AdminApi } from './api';
import type { Account } from './types';
import { ErrorLine, errorMessage } from './util';
import { Overview } from './Overview';
import { Reports } from './Reports';
import { Bans } from './Bans';
import { Appeals } from './Appeals';
import { Audit } from './Audit';
import { Sessions } from './Sessions';
import { Staff } from './Staff';
import { UnavailableBanner } from '../lib/UnavailableBanner';

export type Tab = 'overview' | 'reports' | 'bans' | 'appeals' | 'audit' | 'sessions' | 'staff';

const TABS: Array<{ tab: Tab; label: string; adminOnly?: boolean }> = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'reports', label: 'Reports' },
  { tab: 'bans', label: 'Bans' },
  { tab: 'appeals', label: 'Appeals' },
  { tab: 'audit', label: 'Audit log' },
  { tab: 'sessions', label: 'Live sessions' },
  { tab: 'staff', label: 'Staff', adminOnly: true },
];

const NO_ACCESS = "This account doesn't have access to the moderation dashboard (moderator or admin role required).";

function tabFromHash(): Tab {
  const h = (typeof location !== 'undefined' ? location.hash : '').replace(/^#\/?/, '');
  return (TABS.find((t) => t.tab === h)?.tab ?? 'overview') as Tab;
}

export function AdminApp({ api }: { api: AdminApi }) {
  const [me, setMe] = useState<Account | null>(null);
  const [booting, setBooting] = useState(api.hasSession);
  const [loginError, setLoginError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>(tabFromHash);

  useEffect(() => {
    api.onSignedOut = () => {
      setMe(null);
      setLoginError('Your session expired — please sign in again.');
    };
    return () => {
      api.onSignedOut = null;
    };
  }, [api]);

  useEffect(() => {
    if (!api.hasSession) return;
    let alive = true;
    api
      .me()
      .then(async (acc) => {
        if (!alive) return;
        if (acc.role !== 'moderator' && acc.role !== 'admin') {
          await api.logout();
          setLoginError(NO_ACCESS);
        } else setMe(acc);
      })
      .catch(() => undefined)
      .finally(() => alive && setBooting(false));
    return () => {
      alive = false;
    };
  }, [api]);

  useEffect(() => {
    const on = () => setTab(tabFromHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  const go = (t: Tab) => {
    setTab(t);
    if (location.hash !== `#/${t}`) history.replaceState(null, '', `#/${t}`);
  };

  const logout = async () => {
    await api.logout();
    setMe(null);
    setLoginError(null);
  };

  if (booting) return <div className="admin-loading">Loading…</div>;
  if (!me)
    return (
      <Login
        api={api}
        error={loginError}
        onError={setLoginError}
        onSignedIn={(acc) => {
          setLoginError(null);
          setMe(acc);
        }}
      />
    );

  const isAdmin = me.role === 'admin';
  const current: Tab = tab === 'staff' && !isAdmin ? 'overview' : tab;

  return (
    <div className="admin">
      <header className="admin-top">
        <span className="brand">Connect · moderation</span>
        <nav className="admin-nav">
          {TABS.filter((t) => !t.adminOnly || isAdmin).map((t) => (
            <button
              key={t.tab}
              className={current === t.tab ? 'active' : ''}
              data-testid={`nav-${t.tab}`}
              aria-current={current === t.tab ? 'page' : undefined}
              onClick={() => go(t.tab)}
            >
              {t.label}
            </button>
          ))}
        </nav>
        <span className="whoami" data-testid="admin-whoami">
          <span data-testid="admin-user-email">{me.email}</span>{' '}
          <span className={`role role-${me.role}`} data-testid="admin-role">
            {me.role}
          </span>
        </span>
        <button className="btn small" data-testid="admin-logout" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <UnavailableBanner />
      <main className="admin-main">
        {current === 'overview' && <Overview api={api} onNavigate={go} />}
        {current === 'reports' && <Reports api={api} />}
        {current === 'bans' && <Bans api={api} />}
        {current === 'appeals' && <Appeals api={api} />}
        {current === 'audit' && <Audit api={api} />}
        {current === 'sessions' && <Sessions api={api} />}
        {current === 'staff' && isAdmin && <Staff api={api} />}
      </main>
    </div>
  );
}

function Login({
  api,
  error,
  onError,
  onSignedIn,
}: {
  api: AdminApi;
  error: string | null;
  onError: (e: string | null) => void;
  onSignedIn: (a: Account) => void;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    onError(null);
    try {
      await api.login(email.trim(), password);
      const acc = await api.me();
      if (acc.role !== 'moderator' && acc.role !== 'admin') {
        await api.logout();
        onError(NO_ACCESS);
        return;
      }
      onSignedIn(acc);
    } catch (err) {
      const e2 = err as { code?: string; retryAfterMs?: number };
      let msg = errorMessage(err);
      if (e2.code === 'rate_limited' && e2.retryAfterMs) msg += ` (try again in ${Math.ceil(e2.retryAfterMs / 1000)} s)`;
      onError(msg);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-wrap">
      <form className="login" onSubmit={submit}>
        <h1>Connect moderation</h1>
        <label>
          Email
          <input
            data-testid="admin-email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            autoFocus
          />
        </label>
        <label>
          Password
          <input
            data-testid="admin-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorLine error={error} testId="admin-login-error" />
        <button className="btn primary" type="submit" data-testid="admin-login" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
