/**
 * Staff page (admins only): create staff accounts, change anyone's role, disable or
 * re-enable an account (the server audits each change, ends a disabled account's
 * logins and sockets, and refuses to touch the admin's own account or the last
 * active admin). A non-staff account is found by its exact email.
 */
import { useState, type FormEvent } from 'react';
import { useT } from '../i18n';
import type { AdminApi } from './api';
import type { Account, Role } from './types';
import { ErrorLine, Mono, TableScroll, Time, errorMessage, usePoll } from './util';

export type StaffAccount = Account & { disabled?: boolean };

export const ROLES: Role[] = ['user', 'moderator', 'admin'];

/** A refused change, in the admin's language (`admin.errors.<code>`: cannot_change_self, last_admin…). */
export function staffErrorText(err: unknown): string {
  return errorMessage(err);
}

/** The PATCH body for one change of an account's standing. */
export function standingChange(change: { role: Role } | { disabled: boolean }): { role?: Role; disabled?: boolean } {
  return 'role' in change ? { role: change.role } : { disabled: change.disabled };
}

function AccountRow({
  api,
  account,
  meId,
  onChanged,
}: {
  api: AdminApi;
  account: StaffAccount;
  meId: string | null;
  onChanged: (a: StaffAccount, notice: string) => void;
}) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const self = account.id === meId;

  const change = async (what: { role: Role } | { disabled: boolean }) => {
    setBusy(true);
    setError(null);
    try {
      const next = await api.json<StaffAccount>('PATCH', `/api/admin/accounts/${encodeURIComponent(account.id)}`, standingChange(what));
      const notice =
        'role' in what
          ? t('admin.staff.roleChanged', { email: next.email, role: t(`admin.staff.role.${next.role}`) })
          : t(what.disabled ? 'admin.staff.disabledDone' : 'admin.staff.enabledDone', { email: next.email });
      onChanged(next, notice);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <tr
      data-testid="staff-row"
      data-account-id={account.id}
      data-role={account.role}
      data-disabled={account.disabled ? 'true' : 'false'}
      className={account.disabled ? 'dim' : ''}
    >
      <td data-label={t('admin.staff.col.email')}>
        {account.email}
        {self && <span className="muted"> ({t('admin.staff.you')})</span>}
      </td>
      <td data-label={t('admin.staff.col.name')}>{account.displayName}</td>
      <td data-label={t('admin.staff.col.role')}>
        <select
          data-testid="staff-row-role"
          aria-label={t('admin.staff.roleOf', { email: account.email })}
          value={account.role}
          disabled={busy || self}
          onChange={(e) => void change({ role: e.target.value as Role })}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`admin.staff.role.${r}`)}
            </option>
          ))}
        </select>
      </td>
      <td data-label={t('admin.staff.col.state')} data-testid="staff-row-state">{account.disabled ? t('admin.staff.disabled') : t('admin.staff.active')}</td>
      <td data-label={t('admin.staff.col.created')}>
        <Time value={account.createdAt} />
      </td>
      <td data-label={t('admin.staff.col.id')}>
        <Mono value={account.id} n={10} />
      </td>
      <td data-label={t('admin.staff.col.actions')}>
        {self ? null : account.disabled ? (
          <button className="btn small" data-testid="staff-enable" disabled={busy} onClick={() => void change({ disabled: false })}>
            {t('admin.staff.enable')}
          </button>
        ) : confirming ? (
          <span role="group">
            <span className="small">{t('admin.staff.disableConfirm', { email: account.email })}</span>{' '}
            <button className="btn small danger" data-testid="staff-disable-confirm" disabled={busy} onClick={() => void change({ disabled: true })}>
              {t('admin.staff.disable')}
            </button>{' '}
            <button className="btn small" data-testid="staff-disable-cancel" onClick={() => setConfirming(false)}>
              {t('admin.staff.cancel')}
            </button>
          </span>
        ) : (
          <button className="btn small danger" data-testid="staff-disable" disabled={busy} onClick={() => setConfirming(true)}>
            {t('admin.staff.disable')}
          </button>
        )}
        <ErrorLine error={error} testId="staff-row-error" />
      </td>
    </tr>
  );
}

function AccountTable({
  api,
  accounts,
  meId,
  onChanged,
  testId,
}: {
  api: AdminApi;
  accounts: StaffAccount[];
  meId: string | null;
  onChanged: (a: StaffAccount, notice: string) => void;
  testId: string;
}) {
  const t = useT();
  return (
    <TableScroll label={t('admin.staff.title')}>
    <table className="grid cards" data-testid={testId}>
      <thead>
        <tr>
          <th>{t('admin.staff.col.email')}</th>
          <th>{t('admin.staff.col.name')}</th>
          <th>{t('admin.staff.col.role')}</th>
          <th>{t('admin.staff.col.state')}</th>
          <th>{t('admin.staff.col.created')}</th>
          <th>{t('admin.staff.col.id')}</th>
          <th>{t('admin.staff.col.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {accounts.map((a) => (
          <AccountRow key={a.id} api={api} account={a} meId={meId} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
    </TableScroll>
  );
}

export function Staff({ api }: { api: AdminApi }) {
  const t = useT();
  const list = usePoll(() => api.get<{ staff: StaffAccount[] }>('/api/admin/staff'), null, []);
  const me = usePoll(() => api.me(), null, []);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<'moderator' | 'admin'>('moderator');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [findEmail, setFindEmail] = useState('');
  const [found, setFound] = useState<StaffAccount[] | null>(null);
  const [findError, setFindError] = useState<unknown>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const acc = await api.post<Account>('/api/admin/staff', { email: email.trim(), password, displayName: name.trim(), role });
      setDone(t('admin.staff.created', { role: t(`admin.staff.role.${acc?.role ?? role}`), email: acc?.email ?? email }));
      setEmail('');
      setPassword('');
      setName('');
      void list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const find = async (e: FormEvent) => {
    e.preventDefault();
    setFindError(null);
    try {
      const r = await api.get<{ accounts: StaffAccount[] }>(`/api/admin/accounts?email=${encodeURIComponent(findEmail.trim())}`);
      setFound(r.accounts);
    } catch (err) {
      setFound(null);
      setFindError(err);
    }
  };

  const changed = (a: StaffAccount, text: string) => {
    setNotice(text);
    setFound((f) => (f ? f.map((x) => (x.id === a.id ? a : x)) : f));
    void list.reload();
  };

  const staff = list.data?.staff ?? [];
  const meId = me.data?.id ?? null;
  return (
    <section>
      <div className="section-head">
        <h1>{t('admin.staff.title')}</h1>
      </div>
      <form className="inline-form" onSubmit={create}>
        <strong>{t('admin.staff.new')}</strong>
        <input
          data-testid="staff-email"
          type="email"
          placeholder={t('admin.staff.email')}
          aria-label={t('admin.staff.email')}
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <input
          data-testid="staff-password"
          type="password"
          placeholder={t('admin.staff.password')}
          aria-label={t('admin.staff.password')}
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <input
          data-testid="staff-name"
          placeholder={t('admin.staff.name')}
          aria-label={t('admin.staff.name')}
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <select data-testid="staff-role" aria-label={t('admin.staff.col.role')} value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
          <option value="moderator">{t('admin.staff.role.moderator')}</option>
          <option value="admin">{t('admin.staff.role.admin')}</option>
        </select>
        <button className="btn small primary" type="submit" data-testid="staff-create" disabled={busy}>
          {t('admin.staff.create')}
        </button>
        {done && (
          <span className="ok" role="status" data-testid="staff-create-done">
            {done}
          </span>
        )}
        <ErrorLine error={error} testId="staff-create-error" />
      </form>
      {notice && (
        <p className="ok" role="status" data-testid="staff-notice">
          {notice}
        </p>
      )}
      <ErrorLine error={list.error} />
      <AccountTable api={api} accounts={staff} meId={meId} onChanged={changed} testId="staff-table" />
      <form className="inline-form" onSubmit={find}>
        <strong>{t('admin.staff.find')}</strong>
        <input
          data-testid="staff-find-email"
          type="email"
          aria-label={t('admin.staff.find')}
          placeholder={t('admin.staff.email')}
          required
          value={findEmail}
          onChange={(e) => setFindEmail(e.target.value)}
        />
        <button className="btn small" type="submit" data-testid="staff-find">
          {t('admin.staff.findSubmit')}
        </button>
        <ErrorLine error={findError} testId="staff-find-error" />
      </form>
      {found &&
        (found.length === 0 ? (
          <p className="muted" data-testid="staff-find-none">
            {t('admin.staff.findNone')}
          </p>
        ) : (
          <AccountTable api={api} accounts={found} meId={meId} onChanged={changed} testId="staff-found" />
        ))}
    </section>
  );
}
