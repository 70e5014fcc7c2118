/**
 * Password screens of the contacts app: "Forgot password?" (ask for a mail), the
 * page the mailed link opens (`#/contacts/reset/<token>`: choose a new password),
 * and "Change password" in the account settings. Every string comes from the
 * i18n catalogue; errors are said by their code (`accountErrorText`).
 */
import { useState, type FormEvent } from 'react';
import { useT } from '../i18n';
import { accountErrorText, MIN_PASSWORD, newPasswordProblem, type AuthStore } from '../lib/auth';
import type { ContactsController } from '../lib/contacts';

/** Two password fields (new + repeat) shared by the reset and change forms. */
function NewPasswordFields({
  prefix,
  value,
  repeat,
  onValue,
  onRepeat,
}: {
  prefix: string;
  value: string;
  repeat: string;
  onValue: (v: string) => void;
  onRepeat: (v: string) => void;
}) {
  const t = useT();
  return (
    <>
      <label className="field">
        <span>{t('account.newPassword')}</span>
        <input
          data-testid={`${prefix}-new`}
          type="password"
          value={value}
          required
          minLength={MIN_PASSWORD}
          maxLength={256}
          autoComplete="new-password"
          onChange={(e) => onValue(e.target.value)}
        />
      </label>
      <label className="field">
        <span>{t('account.repeatPassword')}</span>
        <input
          data-testid={`${prefix}-repeat`}
          type="password"
          value={repeat}
          required
          minLength={MIN_PASSWORD}
          maxLength={256}
          autoComplete="new-password"
          onChange={(e) => onRepeat(e.target.value)}
        />
      </label>
    </>
  );
}

/** "Forgot password?": one email field; the answer never says whether the account exists. */
export function ForgotPassword({ auth, initialEmail, onBack }: { auth: AuthStore; initialEmail: string; onBack: () => void }) {
  const t = useT();
  const [email, setEmail] = useState(initialEmail);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.requestPasswordReset(email);
      setSentTo(email.trim());
    } catch (err) {
      setError(accountErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="card auth">
      <h1>{t('account.forgot.title')}</h1>
      {sentTo ? (
        <p className="notice" role="status" data-testid="forgot-sent">
          {t('account.forgot.sent', { email: sentTo })}
        </p>
      ) : (
        <form onSubmit={submit}>
          <p className="muted small">{t('account.forgot.help')}</p>
          <label className="field">
            <span>{t('account.email')}</span>
            <input
              data-testid="forgot-email"
              type="email"
              value={email}
              required
              maxLength={254}
              autoComplete="email"
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          {error && (
            <p className="notice warn" role="alert" data-testid="forgot-error">
              {error}
            </p>
          )}
          <button className="btn primary big" type="submit" data-testid="forgot-submit" disabled={busy}>
            {busy ? t('account.wait') : t('account.forgot.submit')}
          </button>
        </form>
      )}
      <p className="small">
        <button className="link" data-testid="forgot-back" onClick={onBack}>
          {t('account.forgot.back')}
        </button>
      </p>
    </main>
  );
}

/** The page a reset mail links to: choose a new password with the token from the link. */
export function ResetPasswordScreen({ contacts, token }: { contacts: ContactsController; token: string }) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = newPasswordProblem(password, repeat);
    if (problem) {
      setError(t(problem));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await contacts.auth.confirmPasswordReset(token, password);
      setDone(true);
      // Every login of that account just ended; a session kept in this browser is stale.
      if (contacts.auth.loggedIn) await contacts.logout();
    } catch (err) {
      setError(accountErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="card auth">
      <h1>{t('account.reset.title')}</h1>
      {done ? (
        <>
          <p className="notice" role="status" data-testid="reset-done">
            {t('account.reset.done')}
          </p>
          <a className="btn primary big" href="#/contacts" data-testid="reset-login">
            {t('account.logIn')}
          </a>
        </>
      ) : (
        <form onSubmit={submit}>
          <NewPasswordFields prefix="reset" value={password} repeat={repeat} onValue={setPassword} onRepeat={setRepeat} />
          {error && (
            <p className="notice warn" role="alert" data-testid="reset-error">
              {error}
            </p>
          )}
          <button className="btn primary big" type="submit" data-testid="reset-submit" disabled={busy}>
            {busy ? t('account.wait') : t('account.reset.submit')}
          </button>
        </form>
      )}
    </main>
  );
}

/** Settings: change the password while logged in (other devices are signed out). */
export function ChangePassword({ contacts }: { contacts: ContactsController }) {
  const t = useT();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = newPasswordProblem(password, repeat);
    if (problem) {
      setNotice({ ok: false, text: t(problem) });
      return;
    }
    setBusy(true);
    setNotice(null);
    try {
      await contacts.auth.changePassword(current, password);
      setCurrent('');
      setPassword('');
      setRepeat('');
      setNotice({ ok: true, text: t('account.change.done') });
    } catch (err) {
      setNotice({ ok: false, text: accountErrorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="blocked-list" data-testid="change-password">
      <summary data-testid="change-password-toggle">{t('account.change.title')}</summary>
      <form onSubmit={submit}>
        <label className="field">
          <span>{t('account.change.current')}</span>
          <input
            data-testid="change-current"
            type="password"
            value={current}
            required
            maxLength={256}
            autoComplete="current-password"
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <NewPasswordFields prefix="change" value={password} repeat={repeat} onValue={setPassword} onRepeat={setRepeat} />
        {notice && (
          <p
            className={notice.ok ? 'notice' : 'notice warn'}
            role={notice.ok ? 'status' : 'alert'}
            data-testid={notice.ok ? 'change-done' : 'change-error'}
          >
            {notice.text}
          </p>
        )}
        <button className="btn small-btn" type="submit" data-testid="change-submit" disabled={busy}>
          {busy ? t('account.wait') : t('account.change.submit')}
        </button>
      </form>
    </details>
  );
}
