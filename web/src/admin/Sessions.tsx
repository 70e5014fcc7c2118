/** Live sessions (polled every 5 s) and a warning sent to one member's open connections. */
import { useState, type FormEvent } from 'react';
import { t, useT } from '../i18n';
import type { AdminApi } from './api';
import type { LiveSession } from './types';
import { ErrorLine, Mono, TableScroll, fmtAgo, fmtDuration, fmtNumber, label, usePoll } from './util';

interface Target {
  sessionId: string;
  subject: string;
}

export function Sessions({ api }: { api: AdminApi }) {
  useT();
  const list = usePoll(() => api.get<{ sessions: LiveSession[] }>('/api/admin/sessions'), 5000, []);
  const [target, setTarget] = useState<Target | null>(null);
  const sessions = list.data?.sessions ?? [];

  return (
    <section>
      <div className="section-head">
        <h1>{t('admin.sessions.title')}</h1>
        <span className="muted small">{t('admin.sessions.count', { count: fmtNumber(sessions.length) })}</span>
        <button className="btn small" onClick={() => void list.reload()}>
          {t('admin.refresh')}
        </button>
      </div>
      <ErrorLine error={list.error} />
      <TableScroll label={t('admin.sessions.title')}>
      <table className="grid cards">
        <thead>
          <tr>
            <th>{t('admin.sessions.col.session')}</th>
            <th>{t('admin.reports.col.mode')}</th>
            <th>{t('admin.sessions.col.started')}</th>
            <th>{t('admin.sessions.col.duration')}</th>
            <th>{t('admin.sessions.col.interests')}</th>
            <th>{t('admin.sessions.col.messages')}</th>
            <th>{t('admin.sessions.col.members')}</th>
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
                {t('admin.sessions.none')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      </TableScroll>
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
        <td data-label={t('admin.sessions.col.session')}>
          <Mono value={s.id} n={8} />
        </td>
        <td data-label={t('admin.reports.col.mode')}>{label('mode', s.mode)}</td>
        <td data-label={t('admin.sessions.col.started')} title={s.startedAt}>{fmtAgo(s.startedAt)}</td>
        <td data-label={t('admin.sessions.col.duration')} className="num">{fmtDuration(s.durationS)}</td>
        <td data-label={t('admin.sessions.col.interests')}>{s.commonInterests?.length ? s.commonInterests.join(', ') : <span className="muted">—</span>}</td>
        <td data-label={t('admin.sessions.col.messages')} className="num">{fmtNumber(s.messages)}</td>
        <td data-label={t('admin.sessions.col.members')}>
          {s.members.map((m) => (
            <div key={m.peerId} className="member">
              <Mono value={m.subject} n={12} /> <span className="muted small">{t('admin.ip')}</span> <Mono value={m.ipHash} n={8} />{' '}
              <button
                className={`btn tiny ${target?.subject === m.subject ? 'active' : ''}`}
                data-testid="warn-button"
                data-subject={m.subject}
                aria-expanded={target?.subject === m.subject}
                aria-label={t('admin.sessions.warnWho', { who: m.subject })}
                onClick={() => onWarn(target?.subject === m.subject ? null : m.subject)}
              >
                {t('admin.sessions.warn')}
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
  useT();
  const [message, setMessage] = useState(() => t('admin.sessions.warnDefault'));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<number | null>(null);

  const send = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api.post<{ delivered: number }>('/api/admin/warnings', { subject, message: message.trim() });
      setResult(r?.delivered ?? 0);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={send}>
      <label htmlFor="warn-message">
        {t('admin.sessions.warnLabel')} <Mono value={subject} n={12} />
      </label>
      <input
        id="warn-message"
        className="grow"
        data-testid="warn-message"
        value={message}
        maxLength={500}
        required
        onChange={(e) => setMessage(e.target.value)}
        autoFocus
      />
      <button className="btn small" type="submit" data-testid="warn-send" disabled={busy || !message.trim()}>
        {t('admin.sessions.warnSend')}
      </button>
      <button className="btn small" type="button" onClick={onClose}>
        {t('app.close')}
      </button>
      {result !== null && (
        <span className="ok" role="status" data-testid="warn-result">
          {result > 0 ? t('admin.sessions.warnDelivered', { count: fmtNumber(result) }) : t('admin.sessions.warnGone')}
        </span>
      )}
      <ErrorLine error={error} testId="warn-error" />
    </form>
  );
}
