/**
 * The reports queue and one report's detail. Worked by keyboard alone: each row
 * has an open button; opening moves focus to the detail's heading; after a
 * decision, "Next report" (focused) opens the following report in the queue.
 */
import { useEffect, useRef, useState } from 'react';
import { useT } from '../i18n';
import type { AdminApi } from './api';
import type { Report, ReportStatus } from './types';
import { Evidence, FlagList, History, Transcript } from './ReportParts';
import { AutoReport, isAutoReport } from './AutoReport';
import { Actions } from './ReportActions';
import { ErrorLine, Mono, TableScroll, Time, fmtAgo, fmtDuration, fmtNumber, label, usePoll } from './util';

const PAGE = 50;

/**
 * The report to open after `currentId` was decided: the one after it in the list,
 * or (when the decided one has left the list) the one now at its former position.
 */
export function nextReportId(list: ReadonlyArray<{ id: string }>, currentId: string, formerIndex: number): string | null {
  const at = list.findIndex((r) => r.id === currentId);
  const next = at >= 0 ? list[at + 1] : (list[formerIndex] ?? list[list.length - 1]);
  return next && next.id !== currentId ? next.id : null;
}

export function Reports({ api }: { api: AdminApi }) {
  const t = useT();
  const [status, setStatus] = useState<ReportStatus>('pending');
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const formerIndex = useRef(0);
  const list = usePoll(
    () => api.get<{ reports: Report[] }>(`/api/admin/reports?status=${status}&limit=${PAGE}&offset=${offset}`),
    10_000,
    [status, offset],
  );
  const reports = list.data?.reports ?? [];

  const open = (id: string) => {
    formerIndex.current = Math.max(0, reports.findIndex((r) => r.id === id));
    setSelected(id);
  };
  const openNext = selected ? nextReportId(reports, selected, formerIndex.current) : null;

  return (
    <section className="split">
      <div className="pane list-pane">
        <div className="section-head">
          <h1>{t('admin.reports.title')}</h1>
          <label className="inline">
            {t('admin.reports.status')}{' '}
            <select
              data-testid="report-status-filter"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as ReportStatus);
                setOffset(0);
              }}
            >
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
        <TableScroll label={t('admin.reports.title')}>
          <table className="grid cards">
            <thead>
              <tr>
                <th>{t('admin.reports.col.reported')}</th>
                <th>{t('admin.reports.col.reason')}</th>
                <th>{t('admin.reports.col.mode')}</th>
                <th>{t('admin.reports.col.evidence')}</th>
                <th>{t('admin.reports.col.user')}</th>
              </tr>
            </thead>
            <tbody>
              {reports.map((r) => (
                <tr
                  key={r.id}
                  data-testid="report-row"
                  data-report-id={r.id}
                  className={`clickable ${selected === r.id ? 'selected' : ''}`}
                  onClick={() => open(r.id)}
                >
                  <td data-label={t('admin.reports.col.reported')}>
                    <button
                      type="button"
                      className="row-open"
                      data-testid="report-open"
                      aria-label={t('admin.reports.open', { reason: label('reason', r.reason), time: fmtAgo(r.createdAt) })}
                      aria-pressed={selected === r.id}
                      onClick={(e) => {
                        e.stopPropagation();
                        open(r.id);
                      }}
                    >
                      {fmtAgo(r.createdAt)}
                    </button>
                  </td>
                  <td data-label={t('admin.reports.col.reason')}>
                    <span className={`tag reason-${r.reason}`}>{label('reason', r.reason)}</span>
                  </td>
                  <td data-label={t('admin.reports.col.mode')}>
                    {r.source === 'conversation' ? (
                      <span className="tag" data-testid="report-source">
                        {t('admin.reports.conversation')}
                      </span>
                    ) : (
                      label('mode', r.session?.mode)
                    )}
                  </td>
                  <td data-label={t('admin.reports.col.evidence')}>{r.hasEvidence ? <span className="tag">{t('admin.reports.hasEvidence')}</span> : ''}</td>
                  <td data-label={t('admin.reports.col.user')}>
                    {r.reportedAccount?.displayName ? (
                      <span title={r.reportedAccount.id}>{r.reportedAccount.displayName}</span>
                    ) : (
                      <Mono value={r.reported?.subject} n={10} />
                    )}
                  </td>
                </tr>
              ))}
              {!list.loading && reports.length === 0 && (
                <tr>
                  <td colSpan={5} className="empty">
                    {status === 'pending' ? t('admin.reports.nonePending') : t('admin.reports.none')}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </TableScroll>
        <div className="pager">
          <button className="btn small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t('admin.pager.prev')}
          </button>
          <span className="muted small">
            {reports.length
              ? `${t('admin.reports.range', { from: fmtNumber(offset + 1), to: fmtNumber(offset + reports.length) })} · `
              : ''}
            {t('admin.reports.order')}
          </span>
          <button className="btn small" disabled={reports.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
            {t('admin.pager.next')}
          </button>
        </div>
      </div>
      <div className="pane detail-pane">
        {selected ? (
          <ReportDetail
            key={selected}
            api={api}
            id={selected}
            onResolved={() => void list.reload()}
            onNext={openNext ? () => open(openNext) : null}
          />
        ) : (
          <p className="muted empty">{t('admin.reports.select')}</p>
        )}
      </div>
    </section>
  );
}

function ReportDetail({
  api,
  id,
  onResolved,
  onNext,
}: {
  api: AdminApi;
  id: string;
  onResolved: () => void;
  onNext: (() => void) | null;
}) {
  const t = useT();
  const rep = usePoll(() => api.get<Report>(`/api/admin/reports/${encodeURIComponent(id)}`), null, [id]);
  const r = rep.data;
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = Boolean(r);
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);

  if (!r) return rep.error ? <ErrorLine error={rep.error} /> : <p className="muted">{t('admin.loading')}</p>;

  return (
    <div className="report-detail" data-testid="report-detail" data-report-id={r.id}>
      <div className="section-head">
        <h2 ref={heading} tabIndex={-1} data-testid="report-heading">
          {t('admin.report.title')} <Mono value={r.id} n={8} />
        </h2>
        <span className={`tag status-${r.status}`} data-testid="report-status" data-status={r.status}>
          {label('status', r.status)}
        </span>
      </div>

      <dl className="facts">
        <dt>{t('admin.report.reason')}</dt>
        <dd data-testid="report-reason">
          <span className={`tag reason-${r.reason}`}>{label('reason', r.reason)}</span>
        </dd>
        <dt>{t('admin.report.comment')}</dt>
        <dd data-testid="report-comment">{r.comment ? r.comment : <span className="muted">{t('admin.report.noComment')}</span>}</dd>
        <dt>{t('admin.report.at')}</dt>
        <dd data-testid="report-time">
          <Time value={r.createdAt} /> <span className="muted">({fmtAgo(r.createdAt)})</span>
        </dd>
        {r.source === 'conversation' ? (
          <>
            <dt>{t('admin.report.conversation')}</dt>
            <dd data-testid="report-conversation">
              <Mono value={r.channelId ?? ''} n={8} /> · {t('admin.report.since')} <Time value={r.session?.startedAt} /> ·{' '}
              {r.messageId ? t('admin.report.oneMessage') : t('admin.report.thePerson')}
            </dd>
            <dt>{t('admin.report.account')}</dt>
            <dd data-testid="report-account" data-account-id={r.reportedAccount?.id ?? ''}>
              <strong>{r.reportedAccount?.displayName ?? t('admin.report.unknown')}</strong>{' '}
              <Mono value={r.reportedAccount?.id ?? ''} n={32} />
            </dd>
            {r.messageId && (
              <>
                <dt>{t('admin.report.message')}</dt>
                <dd data-testid="report-excerpt">
                  {r.messageExcerpt != null ? <q>{r.messageExcerpt}</q> : <span className="muted">{t('admin.report.notKept')}</span>}
                </dd>
              </>
            )}
          </>
        ) : (
          <>
            <dt>{t('admin.report.session')}</dt>
            <dd data-testid="report-session">
              <Mono value={r.sessionId ?? ''} n={8} /> · {label('mode', r.session?.mode)} · {t('admin.report.started')}{' '}
              <Time value={r.session?.startedAt} /> ·{' '}
              {r.session?.endedAt ? t('admin.report.lasted', { duration: fmtDuration(r.session.durationS) }) : t('admin.report.live')}
              {r.session?.commonInterests?.length ? ` · ${t('admin.report.interests', { list: r.session.commonInterests.join(', ') })}` : ''}
            </dd>
          </>
        )}
        <dt>{t('admin.report.reportedUser')}</dt>
        <dd>
          <Mono value={r.reported?.subject} n={16} /> <span className="tag">{label('kind', r.reported?.kind)}</span> ·{' '}
          {t('admin.ip')} <Mono value={r.reported?.ipHash} n={10} />
        </dd>
        <dt>{t('admin.report.reporter')}</dt>
        <dd>
          <Mono value={r.reporter?.subject} n={16} /> · {t('admin.ip')} <Mono value={r.reporter?.ipHash} n={10} />
        </dd>
      </dl>

      {isAutoReport(r) ? <AutoReport api={api} report={r} /> : r.hasEvidence && <Evidence api={api} reportId={r.id} />}

      <h3>{r.source === 'conversation' ? t('admin.report.around') : t('admin.report.transcript')}</h3>
      <Transcript report={r} />

      <div className="two-col">
        <div>
          <h3>{t('admin.report.history')}</h3>
          <History history={r.history} currentId={r.id} />
        </div>
        <div>
          <h3>{t('admin.report.reporterFlags')}</h3>
          <FlagList flags={r.reporterFlags} testId="report-reporter-flags" />
        </div>
      </div>

      <Actions
        api={api}
        report={r}
        onNext={onNext}
        onResolved={(updated) => {
          rep.setData(updated);
          onResolved();
        }}
        onConflict={() => {
          void rep.reload();
          onResolved();
        }}
      />
    </div>
  );
}
