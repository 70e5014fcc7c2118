import { useState, type FormEvent } from 'react';
import type { AdminApi } from './api';
import type { Ban, BanScope } from './types';
import { DurationSelect, ErrorLine, Mono, Time, durationHours, errorMessage, useDebounced, usePoll } from './util';

export function banState(b: Ban): string {
  if (b.active) return 'active';
  if (b.liftedAt) return 'lifted';
  return 'expired';
}

export function Bans({ api }: { api: AdminApi }) {
  const [query, setQuery] = useState('');
  const [activeOnly, setActiveOnly] = useState(true);
  const q = useDebounced(query.trim(), 250);
  const list = usePoll(
    () => {
      const p = new URLSearchParams({ query: q, limit: '100' });
      if (activeOnly) p.set('active', 'true');
      return api.get<{ bans: Ban[] }>(`/api/admin/bans?${p}`);
    },
    null,
    [q, activeOnly],
  );
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const lift = async (b: Ban) => {
    setBusyId(b.id);
    setError(null);
    setMessage(null);
    try {
      await api.del<Ban>(`/api/admin/bans/${encodeURIComponent(b.id)}`);
      setMessage(`Lifted the ${b.scope} ban on ${b.value}.`);
      await list.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusyId(null);
    }
  };

  const bans = list.data?.bans ?? [];
  return (
    <section>
      <div className="section-head">
        <h2>Bans</h2>
        <input
          data-testid="ban-search"
          type="search"
          placeholder="Search value, reason, report id…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <label className="check">
          <input type="checkbox" data-testid="ban-active-only" checked={activeOnly} onChange={(e) => setActiveOnly(e.target.checked)} />
          active only
        </label>
        <button className="btn small" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      <CreateBan
        api={api}
        onCreated={(b) => {
          setMessage(`Created a ${b.scope} ban on ${b.value}.`);
          void list.reload();
        }}
      />
      <ErrorLine error={list.error || error} />
      {message && (
        <p className="ok" data-testid="ban-message">
          {message}
        </p>
      )}
      <table className="grid">
        <thead>
          <tr>
            <th>Scope</th>
            <th>Value</th>
            <th>Reason</th>
            <th>Created</th>
            <th>By</th>
            <th>Expires</th>
            <th>Report</th>
            <th>State</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {bans.map((b) => (
            <tr key={b.id} data-testid="ban-row" data-ban-id={b.id} className={b.active ? '' : 'dim'}>
              <td>{b.scope}</td>
              <td>
                <Mono value={b.value} n={18} />
              </td>
              <td>{b.reason}</td>
              <td>
                <Time value={b.createdAt} />
              </td>
              <td>{b.automatic ? <span className="tag">auto</span> : <Mono value={b.createdBy} n={10} />}</td>
              <td>{b.expiresAt ? <Time value={b.expiresAt} /> : 'never'}</td>
              <td>{b.reportId ? <Mono value={b.reportId} n={8} /> : '—'}</td>
              <td>
                <span className={`tag status-${banState(b)}`}>{banState(b)}</span>
                {b.liftedAt && (
                  <span className="muted small">
                    {' '}
                    <Time value={b.liftedAt} />
                  </span>
                )}
              </td>
              <td>
                {b.active && (
                  <button className="btn small" data-testid="ban-lift" disabled={busyId === b.id} onClick={() => void lift(b)}>
                    Lift
                  </button>
                )}
              </td>
            </tr>
          ))}
          {!list.loading && bans.length === 0 && (
            <tr>
              <td colSpan={9} className="empty">
                No bans found.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function CreateBan({ api, onCreated }: { api: AdminApi; onCreated: (b: Ban) => void }) {
  const [scope, setScope] = useState<BanScope>('device');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState('24');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const b = await api.post<Ban>('/api/admin/bans', {
        scope,
        value: value.trim(),
        reason: reason.trim(),
        durationHours: durationHours(duration),
      });
      setValue('');
      setReason('');
      onCreated(b);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={submit}>
      <strong>New ban</strong>
      <select data-testid="ban-scope" value={scope} onChange={(e) => setScope(e.target.value as BanScope)}>
        <option value="device">device</option>
        <option value="ip">IP</option>
        <option value="account">account</option>
      </select>
      <input
        data-testid="ban-value"
        placeholder={scope === 'device' ? 'device id' : scope === 'ip' ? 'IP address' : 'account id or email'}
        required
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <input data-testid="ban-reason" placeholder="reason" required value={reason} onChange={(e) => setReason(e.target.value)} />
      <DurationSelect testId="ban-duration" value={duration} onChange={setDuration} />
      <button className="btn danger small" type="submit" data-testid="ban-create-submit" disabled={busy || !value.trim() || !reason.trim()}>
        Ban
      </button>
      <ErrorLine error={error} testId="ban-create-error" />
    </form>
  );
}
