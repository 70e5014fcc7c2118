/** Log in / sign up (one form, two modes); the error of one mode is not carried into the other. */
import { useState, type FormEvent } from 'react';
import type { ContactsController } from './callMedia';
import { noteText, type ContactsState } from './model';
import { MIN_PASSWORD } from '../lib/auth';
import { ForgotPassword } from './Account';
import { t } from '../i18n';

export function AuthScreen({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  const [mode, setModeRaw] = useState<'login' | 'signup' | 'forgot'>('login');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const setMode = (m: 'login' | 'signup' | 'forgot') => {
    contacts.clearAuthError();
    setModeRaw(m);
  };

  if (mode === 'forgot') return <ForgotPassword auth={contacts.auth} initialEmail={email} onBack={() => setMode('login')} />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (mode === 'login') void contacts.login(email, password);
    else void contacts.signup(email, password, name);
  };

  return (
    <main className="card auth">
      <h1>{mode === 'login' ? t('account.login.title') : t('account.signup.title')}</h1>
      <p className="muted small">{t('account.tagline')}</p>
      <form onSubmit={submit}>
        {mode === 'signup' && (
          <label className="field">
            <span>{t('account.displayName')}</span>
            <input
              data-testid="signup-name"
              value={name}
              maxLength={64}
              required
              autoComplete="nickname"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
        )}
        <label className="field">
          <span>{t('account.email')}</span>
          <input
            data-testid={mode === 'login' ? 'login-email' : 'signup-email'}
            type="email"
            value={email}
            required
            autoComplete="email"
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{mode === 'signup' ? t('account.passwordNew') : t('account.password')}</span>
          <input
            data-testid={mode === 'login' ? 'login-password' : 'signup-password'}
            type="password"
            value={password}
            required
            minLength={mode === 'signup' ? MIN_PASSWORD : undefined}
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {s.authError && (
          <p className="notice warn" data-testid="auth-error" role="alert">
            {noteText(s.authError)}
          </p>
        )}
        <button
          className="btn primary big"
          type="submit"
          data-testid={mode === 'login' ? 'login-submit' : 'signup-submit'}
          disabled={s.authBusy}
        >
          {s.authBusy ? t('account.wait') : mode === 'login' ? t('account.login.submit') : t('account.signup.submit')}
        </button>
      </form>
      <p className="small">
        {mode === 'login' ? (
          <>
            <button className="link" type="button" data-testid="show-forgot" onClick={() => setMode('forgot')}>
              {t('account.forgot.link')}
            </button>
            {' · '}
            {t('account.newHere')}{' '}
            <button className="link" type="button" data-testid="show-signup" onClick={() => setMode('signup')}>
              {t('account.createAccount')}
            </button>
          </>
        ) : (
          <>
            {t('account.haveAccount')}{' '}
            <button className="link" type="button" data-testid="show-login" onClick={() => setMode('login')}>
              {t('account.logIn')}
            </button>
          </>
        )}
      </p>
    </main>
  );
}
