/** The dashboard's sign-in form (staff accounts only; others are signed out again at once). */
import { useState, type FormEvent } from 'react';
import { useT } from '../i18n';
import { Toolbar } from '../ui/Toolbar';
import type { AdminApi } from './api';
import type { Account } from './types';
import { ErrorLine } from './util';

/** Why the login screen is shown again: a raw error, or a catalogue sentence. */
export type LoginError = { kind: 'error'; error: unknown } | { kind: 'noAccess' } | { kind: 'expired' } | null;

export function isStaff(acc: Account): boolean {
  return acc.role === 'moderator' || acc.role === 'admin';
}

export function Login({
  api,
  error,
  onError,
  onSignedIn,
}: {
  api: AdminApi;
  error: LoginError;
  onError: (e: LoginError) => void;
  onSignedIn: (a: Account) => void;
}) {
  const t = useT();
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
      if (!isStaff(acc)) {
        await api.logout();
        onError({ kind: 'noAccess' });
        return;
      }
      onSignedIn(acc);
    } catch (err) {
      onError({ kind: 'error', error: err });
    } finally {
      setBusy(false);
    }
  };

  const text =
    error?.kind === 'noAccess' ? t('admin.login.noAccess') : error?.kind === 'expired' ? t('admin.login.expired') : error?.error;
  return (
    <div className="login-wrap">
      <div className="login-bar admin-top">
        <span className="brand">{t('admin.brand')}</span>
        <Toolbar />
      </div>
      <main className="login-main">
        <form className="login" onSubmit={submit}>
          <h1>{t('admin.login.title')}</h1>
          <label>
            {t('admin.login.email')}
            <input
              data-testid="admin-email"
              type="email"
              dir="ltr"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoFocus
            />
          </label>
          <label>
            {t('admin.login.password')}
            <input
              data-testid="admin-password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <ErrorLine error={text} testId="admin-login-error" />
          <button className="btn primary" type="submit" data-testid="admin-login" disabled={busy}>
            {busy ? t('admin.login.busy') : t('admin.login.submit')}
          </button>
        </form>
      </main>
    </div>
  );
}
