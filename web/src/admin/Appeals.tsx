import { useState } from 'react';
import type { AdminApi } from './api';
import type { Appeal } from './types';
import { ErrorLine, Mono, Time, errorMessage, fmtAgo, usePoll } from './util';
import { banState } from './Bans';

export function Appeals({ api }: { api: AdminApi }) {
  const [status, setStatus] = useState<'pending' | 'accepted' | 'rejected'>('pending');
  const list = usePoll(() => api.get<{ appeals: Appeal[] }>(`/api/admin/appeals?status=${status}`), 15_000, [status]);
  const [message, setMessage] = useState<string | null>(null);
  const appeals = list.data?.appeals ?? [];

  return (
    <section>
      <div className="section-head">
        <h2>Appeals</h2>
        <label className="inline">
          Status{' '}
          <select data-testid="appeal-status-filter" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
            <option value="pending">Pending</option>
            <option value="accepted">Accepted</option>
            <option value="rejected">Rejected</option>
          </select>
        </label>
        <button className="btn small" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      <ErrorLine error={list.error} />
      {message && (
        <p className="ok" data-testid="appeal-done">
          {message}
        </p>
      )}
      <table className="grid">
        <thead>
          <tr>
            <th>Filed</th>
            <th>Appeal</th>
            <th>Ban</th>
            <th>Decision</th>
          </tr>
        </thead>
        <tbody>
          {appeals.map((a) => (
            <AppealRow
              key={a.id}
              api={api}
              appeal={a}
              onDecided={(m) => {
                setMessage(m);
                void list.reload();
              }}
            />
          ))}
          {!list.loading && appeals.length === 0 && (
            <tr>
              <td colSpan={4} className="empty">
                No {status} appeals.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function AppealRow({ api, appeal: a, onDecided }: { api: AdminApi; appeal: Appeal; onDecided: (msg: string) => void }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const decide = async (decision: 'accept' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      const body: { decision: string; note?: string } = { decision };
      if (note.trim()) body.note = note.trim();
      await api.post<Appeal>(`/api/admin/appeals/${encodeURIComponent(a.id)}`, body);
      onDecided(decision === 'accept' ? 'Appeal accepted — the ban was lifted.' : 'Appeal rejected — the ban stays.');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const b = a.ban;
  return (
    <tr data-testid="appeal-row" data-appeal-id={a.id}>
      <td>
        <Time value={a.createdAt} />
        <div className="muted small">{fmtAgo(a.createdAt)}</div>
      </td>
      <td className="appeal-text">{a.text}</td>
      <td className="small">
        {b ? (
          <>
            <div>
              {b.scope} <Mono value={b.value} n={12} /> <span className={`tag status-${banState(b)}`}>{banState(b)}</span>
            </div>
            <div>{b.reason}</div>
            <div className="muted">
              since <Time value={b.createdAt} /> · {b.expiresAt ? <>until <Time value={b.expiresAt} /></> : 'permanent'}
              {b.reportId ? (
                <>
                  {' '}
                  · report <Mono value={b.reportId} n={8} />
                </>
              ) : null}
            </div>
          </>
        ) : (
          <Mono value={a.banId} />
        )}
      </td>
      <td>
        {a.status === 'pending' ? (
          <div className="decide">
            <input data-testid="appeal-note" placeholder="Note (optional)" value={note} maxLength={1000} onChange={(e) => setNote(e.target.value)} />
            <div className="row">
              <button className="btn small" data-testid="appeal-accept" disabled={busy} onClick={() => void decide('accept')}>
                Accept (lift ban)
              </button>
              <button className="btn small" data-testid="appeal-reject" disabled={busy} onClick={() => void decide('reject')}>
                Reject
              </button>
            </div>
            <ErrorLine error={error} />
          </div>
        ) : (
          <div className="small">
            <span className={`tag status-${a.status}`}>{a.status}</span> <Mono value={a.decidedBy} n={10} /> <Time value={a.decidedAt} />
            {a.note && <div>“{a.note}”</div>}
          </div>
        )}
      </td>
    </tr>
  );
}
