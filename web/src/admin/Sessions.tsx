import { useState, type FormEvent } from 'react';
import type { AdminApi } from './api';
import type { LiveSession } from './types';
import { ErrorLine, Mono, errorMessage, fmtAgo, fmtDuration, usePoll } from './util';

interface Target {
  sessionId: string;
  subject: string;
}

export function Sessions({ api }: { api: AdminApi }) {
  const list = usePoll(() => api.get<{ sessions: LiveSession[] }>('/api/admin/sessions'), 5000, []);
  const [target, setTarget] = useState<Target | null>(null);
  const sessions = list.data?.sessions ?? [];

  return (
    <section>
      <div className="section-head">
        <h2>Live sessions</h2>
        <span className="muted small">{sessions.length} live · refreshes every 5 s</span>
        <button className="btn small" onClick={() => void list.reload()}>
          Refresh
        </button>
      </div>
      <ErrorLine error={list.error} />
      <table className="grid">
        <thead>
          <tr>
            <th>Session</th>
            <th>Mode</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Interests</th>
            <th>Msgs</th>
            <th>Members</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <SessionRows
              key={s.id}
              api={api}
              session={s}
              target={target?.sessionId === s.id ? target : null}
              onWarn={(subject) => setTarget(subject ? { sessionId: s.id, subject } : null)}
            />
          ))}
          {!list.loading && sessions.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No live sessions right now.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function SessionRows({
  api,
  session: s,
  target,
  onWarn,
}: {
  api: AdminApi;
  session: LiveSession;
  target: Target | null;
  onWarn: (subject: string | null) => void;
}) {
  return (
    <>
      <tr data-testid="session-row" data-session-id={s.id}>
        <td>
          <Mono value={s.id} n={8} />
        </td>
        <td>{s.mode}</td>
        <td title={s.startedAt}>{fmtAgo(s.startedAt)}</td>
        <td className="num">{fmtDuration(s.durationS)}</td>
        <td>{s.commonInterests?.length ? s.commonInterests.join(', ') : <span className="muted">—</span>}</td>
        <td className="num">{s.messages}</td>
        <td>
          {s.members.map((m) => (
            <div key={m.peerId} className="member">
              <Mono value={m.subject} n={12} /> <span className="muted small">IP</span> <Mono value={m.ipHash} n={8} />{' '}
              <button
                className={`btn tiny ${target?.subject === m.subject ? 'active' : ''}`}
                data-testid="warn-button"
                data-subject={m.subject}
                onClick={() => onWarn(target?.subject === m.subject ? null : m.subject)}
              >
                Warn
              </button>
            </div>
          ))}
        </td>
      </tr>
      {target && (
        <tr className="subrow">
          <td colSpan={7}>
            <WarnForm api={api} subject={target.subject} onClose={() => onWarn(null)} />
          </td>
        </tr>
      )}
    </>
  );
}

function WarnForm({ api, subject, onClose }: { api: AdminApi; subject: string; onClose: () => void }) {
  const [message, setMessage] = useState('Please keep it respectful — breaking the rules gets you banned.');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);

  const send = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api.post<{ delivered: number }>('/api/admin/warnings', { subject, message: message.trim() });
      const n = r?.delivered ?? 0;
      setResult(n > 0 ? `Warning delivered to ${n} connection${n === 1 ? '' : 's'}.` : 'Not delivered — the visitor is no longer connected.');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={send}>
      <span>
        Warn <Mono value={subject} n={12} />:
      </span>
      <input
        className="grow"
        data-testid="warn-message"
        value={message}
        maxLength={500}
        required
        onChange={(e) => setMessage(e.target.value)}
        autoFocus
      />
      <button className="btn small" type="submit" data-testid="warn-send" disabled={busy || !message.trim()}>
        Send warning
      </button>
      <button className="btn small" type="button" onClick={onClose}>
        Close
      </button>
      {result && (
        <span className="ok" data-testid="warn-result">
          {result}
        </span>
      )}
      <ErrorLine error={error} testId="warn-error" />
    </form>
  );
}
