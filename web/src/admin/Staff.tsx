import { useState, type FormEvent } from 'react';
import type { AdminApi } from './api';
import type { Account } from './types';
import { ErrorLine, Mono, Time, errorMessage, usePoll } from './util';

export function Staff({ api }: { api: AdminApi }) {
  const list = usePoll(() => api.get<{ staff: Account[] }>('/api/admin/staff'), null, []);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<'moderator' | 'admin'>('moderator');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const acc = await api.post<Account>('/api/admin/staff', { email: email.trim(), password, displayName: name.trim(), role });
      setDone(`Created ${acc?.role ?? role} ${acc?.email ?? email}.`);
      setEmail('');
      setPassword('');
      setName('');
      void list.reload();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const staff = list.data?.staff ?? [];
  return (
    <section>
      <div className="section-head">
        <h2>Staff</h2>
      </div>
      <form className="inline-form" onSubmit={create}>
        <strong>New staff account</strong>
        <input data-testid="staff-email" type="email" placeholder="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <input
          data-testid="staff-password"
          type="password"
          placeholder="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <input data-testid="staff-name" placeholder="display name" required value={name} onChange={(e) => setName(e.target.value)} />
        <select data-testid="staff-role" value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
          <option value="moderator">moderator</option>
          <option value="admin">admin</option>
        </select>
        <button className="btn small primary" type="submit" data-testid="staff-create" disabled={busy}>
          Create
        </button>
        {done && (
          <span className="ok" data-testid="staff-create-done">
            {done}
          </span>
        )}
        <ErrorLine error={error} testId="staff-create-error" />
      </form>
      <ErrorLine error={list.error} />
      <table className="grid">
        <thead>
          <tr>
            <th>Email</th>
            <th>Name</th>
            <th>Role</th>
            <th>Created</th>
            <th>Id</th>
          </tr>
        </thead>
        <tbody>
          {staff.map((a) => (
            <tr key={a.id} data-testid="staff-row" data-account-id={a.id}>
              <td>{a.email}</td>
              <td>{a.displayName}</td>
              <td>
                <span className={`role role-${a.role}`}>{a.role}</span>
              </td>
              <td>
                <Time value={a.createdAt} />
              </td>
              <td>
                <Mono value={a.id} n={10} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
