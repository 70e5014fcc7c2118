/** Appeals against bans: read the visitor's text and the ban, then lift it or let it stand. */
import { useState } from 'react';
import { useT } from '../i18n';
import type { AdminApi } from './api';
import type { Appeal } from './types';
import { ErrorLine, Mono, TableScroll, Time, fmtAgo, label, usePoll } from './util';
import { banState } from './Bans';
import { banReason } from './banText';

type Status = 'pending' | 'accepted' | 'rejected';

export function Appeals({ api }: { api: AdminApi }) {
  const t = useT();
  const [status, setStatus] = useState<Status>('pending');
  const list = usePoll(() => api.get<{ appeals: Appeal[] }>(`/api/admin/appeals?status=${status}`), 15_000, [status]);
  const [decided, setDecided] = useState<'accept' | 'reject' | null>(null);
  const appeals = list.data?.appeals ?? [];

  return (
    <section>
      <div className="section-head">
        <h1>{t('admin.appeals.title')}</h1>
        <label className="inline">
          {t('admin.reports.status')}{' '}
          <select data-testid="appeal-status-filter" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            {(['pending', 'accepted', 'rejected'] as const).map((s) => (
              <option key={s} value={s}>
                {label('status', s)}
              </option>
            ))}
          </select>
        </label>
        <button className="btn small" onClick={() => void list.reload()}>
          {t('admin.refresh')}
        </button>
      </div>
      <ErrorLine error={list.error} />
      {decided && (
        <p className="ok" role="status" data-testid="appeal-done">
          {decided === 'accept' ? t('admin.appeals.accepted') : t('admin.appeals.rejected')}
        </p>
      )}
      <TableScroll label={t('admin.appeals.title')}>
        <table className="grid cards">
          <thead>
            <tr>
              <th>{t('admin.appeals.col.filed')}</th>
              <th>{t('admin.appeals.col.appeal')}</th>
              <th>{t('admin.appeals.col.ban')}</th>
              <th>{t('admin.appeals.col.decision')}</th>
            </tr>
          </thead>
          <tbody>
            {appeals.map((a) => (
              <AppealRow
                key={a.id}
                api={api}
                appeal={a}
                onDecided={(d) => {
                  setDecided(d);
                  void list.reload();
                }}
              />
            ))}
            {!list.loading && appeals.length === 0 && (
              <tr>
                <td colSpan={4} className="empty">
                  {t(`admin.appeals.none.${status}`)}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}

function AppealRow({ api, appeal: a, onDecided }: { api: AdminApi; appeal: Appeal; onDecided: (d: 'accept' | 'reject') => void }) {
  const t = useT();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const decide = async (decision: 'accept' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      const body: { decision: string; note?: string } = { decision };
      if (note.trim()) body.note = note.trim();
      await api.post<Appeal>(`/api/admin/appeals/${encodeURIComponent(a.id)}`, body);
      onDecided(decision);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const b = a.ban;
  return (
    <tr data-testid="appeal-row" data-appeal-id={a.id}>
      <td data-label={t('admin.appeals.col.filed')}>
        <Time value={a.createdAt} />
        <div className="muted small">{fmtAgo(a.createdAt)}</div>
      </td>
      <td data-label={t('admin.appeals.col.appeal')} className="appeal-text">{a.text}</td>
      <td data-label={t('admin.appeals.col.ban')} className="small">
        {b ? (
          <>
            <div>
              {label('scope', b.scope)} <Mono value={b.value} n={12} />{' '}
              <span className={`tag status-${banState(b)}`}>{label('banState', banState(b))}</span>
            </div>
            <div>{banReason(b)}</div>
            <div className="muted">
              {t('admin.appeals.since')} <Time value={b.createdAt} /> ·{' '}
              {b.expiresAt ? (
                <>
                  {t('admin.history.until')} <Time value={b.expiresAt} />
                </>
              ) : (
                t('admin.duration.permanent')
              )}
              {b.reportId ? (
                <>
                  {' '}
                  · {t('admin.bans.col.report')} <Mono value={b.reportId} n={8} />
                </>
              ) : null}
            </div>
          </>
        ) : (
          <Mono value={a.banId} />
        )}
      </td>
      <td data-label={t('admin.appeals.col.decision')}>
        {a.status === 'pending' ? (
          <div className="decide">
            <input
              data-testid="appeal-note"
              aria-label={t('admin.appeals.note')}
              placeholder={t('admin.appeals.note')}
              value={note}
              maxLength={1000}
              onChange={(e) => setNote(e.target.value)}
            />
            <div className="row">
              <button className="btn small" data-testid="appeal-accept" disabled={busy} onClick={() => void decide('accept')}>
                {t('admin.appeals.accept')}
              </button>
              <button className="btn small" data-testid="appeal-reject" disabled={busy} onClick={() => void decide('reject')}>
                {t('admin.decision.reject')}
              </button>
            </div>
            <ErrorLine error={error} />
          </div>
        ) : (
          <div className="small">
            <span className={`tag status-${a.status}`}>{label('status', a.status)}</span> <Mono value={a.decidedBy} n={10} />{' '}
            <Time value={a.decidedAt} />
            {a.note && <div>“{a.note}”</div>}
          </div>
        )}
      </td>
    </tr>
  );
}
