import { useState } from 'react';
import type { AdminApi } from './api';
import type { Ban, BanScope, Report, ReportStatus, ResolveBody } from './types';
import { Evidence, FlagList, History, Transcript } from './ReportParts';
import { AutoReport, isAutoReport } from './AutoReport';
import { DurationSelect, ErrorLine, Mono, Time, durationHours, errorMessage, fmtAgo, fmtDuration, usePoll } from './util';

const PAGE = 50;

export function Reports({ api }: { api: AdminApi }) {
  const [status, setStatus] = useState<ReportStatus>('pending');
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const list = usePoll(
    () => api.get<{ reports: Report[] }>(`/api/admin/reports?status=${status}&limit=${PAGE}&offset=${offset}`),
    10_000,
    [status, offset],
  );
  const reports = list.data?.reports ?? [];

  return (
    <section className="split">
      <div className="pane list-pane">
        <div className="section-head">
          <h2>Reports</h2>
          <label className="inline">
            Status{' '}
            <select
              data-testid="report-status-filter"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as ReportStatus);
                setOffset(0);
              }}
            >
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
        <table className="grid">
          <thead>
            <tr>
              <th>Reported</th>
              <th>Reason</th>
              <th>Mode</th>
              <th>Ev.</th>
              <th>Reported user</th>
            </tr>
          </thead>
          <tbody>
            {reports.map((r) => (
              <tr
                key={r.id}
                data-testid="report-row"
                data-report-id={r.id}
                className={`clickable ${selected === r.id ? 'selected' : ''}`}
                onClick={() => setSelected(r.id)}
              >
                <td title={r.createdAt}>{fmtAgo(r.createdAt)}</td>
                <td>
                  <span className={`tag reason-${r.reason}`}>{r.reason}</span>
                </td>
                <td>{r.source === 'conversation' ? <span className="tag" data-testid="report-source">conversation</span> : (r.session?.mode ?? '—')}</td>
                <td>{r.hasEvidence ? <span className="tag" title="Has a video snapshot">img</span> : ''}</td>
                <td>
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
                  {status === 'pending' ? 'No pending reports.' : 'No reports.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <div className="pager">
          <button className="btn small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            ‹ Prev
          </button>
          <span className="muted small">
            {reports.length ? `${offset + 1}–${offset + reports.length}` : ''} · oldest first · refreshes every 10 s
          </span>
          <button className="btn small" disabled={reports.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
            Next ›
          </button>
        </div>
      </div>
      <div className="pane detail-pane">
        {selected ? (
          <ReportDetail key={selected} api={api} id={selected} onResolved={() => void list.reload()} />
        ) : (
          <p className="muted empty">Select a report to review it.</p>
        )}
      </div>
    </section>
  );
}

function ReportDetail({ api, id, onResolved }: { api: AdminApi; id: string; onResolved: () => void }) {
  const rep = usePoll(() => api.get<Report>(`/api/admin/reports/${encodeURIComponent(id)}`), null, [id]);
  const r = rep.data;

  if (!r) return rep.error ? <ErrorLine error={rep.error} /> : <p className="muted">Loading…</p>;

  return (
    <div className="report-detail" data-testid="report-detail" data-report-id={r.id}>
      <div className="section-head">
        <h2>
          Report <Mono value={r.id} n={8} />
        </h2>
        <span className={`tag status-${r.status}`} data-testid="report-status">
          {r.status}
        </span>
      </div>

      <dl className="facts">
        <dt>Reason</dt>
        <dd data-testid="report-reason">
          <span className={`tag reason-${r.reason}`}>{r.reason}</span>
        </dd>
        <dt>Comment</dt>
        <dd data-testid="report-comment">{r.comment ? r.comment : <span className="muted">none</span>}</dd>
        <dt>Reported at</dt>
        <dd data-testid="report-time">
          <Time value={r.createdAt} /> <span className="muted">({fmtAgo(r.createdAt)})</span>
        </dd>
        {r.source === 'conversation' ? (
          <>
            <dt>Conversation</dt>
            <dd data-testid="report-conversation">
              <Mono value={r.channelId ?? ''} n={8} /> · since <Time value={r.session?.startedAt} />
              {r.messageId ? ' · one message reported' : ' · the person reported'}
            </dd>
            <dt>Reported account</dt>
            <dd data-testid="report-account" data-account-id={r.reportedAccount?.id ?? ''}>
              <strong>{r.reportedAccount?.displayName ?? 'unknown'}</strong> <Mono value={r.reportedAccount?.id ?? ''} n={32} />
            </dd>
            {r.messageId && (
              <>
                <dt>Message</dt>
                <dd data-testid="report-excerpt">
                  {r.messageExcerpt != null ? <q>{r.messageExcerpt}</q> : <span className="muted">no longer kept</span>}
                </dd>
              </>
            )}
          </>
        ) : (
          <>
            <dt>Session</dt>
            <dd data-testid="report-session">
              <Mono value={r.sessionId ?? ''} n={8} /> · {r.session?.mode} · started <Time value={r.session?.startedAt} /> ·{' '}
              {r.session?.endedAt ? `lasted ${fmtDuration(r.session.durationS)}` : 'still live'}
              {r.session?.commonInterests?.length ? ` · interests: ${r.session.commonInterests.join(', ')}` : ''}
            </dd>
          </>
        )}
        <dt>Reported user</dt>
        <dd>
          <Mono value={r.reported?.subject} n={16} /> <span className="tag">{r.reported?.kind}</span> · IP{' '}
          <Mono value={r.reported?.ipHash} n={10} />
        </dd>
        <dt>Reporter</dt>
        <dd>
          <Mono value={r.reporter?.subject} n={16} /> · IP <Mono value={r.reporter?.ipHash} n={10} />
        </dd>
      </dl>

      {isAutoReport(r) ? <AutoReport api={api} report={r} /> : r.hasEvidence && <Evidence api={api} reportId={r.id} />}

      <h3>{r.source === 'conversation' ? 'Messages around it' : 'Transcript'}</h3>
      <Transcript report={r} />

      <div className="two-col">
        <div>
          <h3>Reported user's history</h3>
          <History history={r.history} currentId={r.id} />
        </div>
        <div>
          <h3>Reporter's flags</h3>
          <FlagList flags={r.reporterFlags} testId="report-reporter-flags" />
        </div>
      </div>

      <Actions
        api={api}
        report={r}
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

function Actions({
  api,
  report,
  onResolved,
  onConflict,
}: {
  api: AdminApi;
  report: Report;
  onResolved: (r: Report) => void;
  onConflict: () => void;
}) {
  const conversation = report.source === 'conversation';
  // A conversation report knows the account only (no device, no IP).
  const [scope, setScope] = useState<Record<BanScope, boolean>>(
    conversation ? { device: false, ip: false, account: true } : { device: true, ip: false, account: false },
  );
  const [duration, setDuration] = useState('24');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const accountOk = report.reported?.kind === 'access';
  const scopes = (Object.keys(scope) as BanScope[]).filter(
    (k) => scope[k] && (k !== 'account' || accountOk) && (!conversation || k === 'account'),
  );

  const resolve = async (action: 'accept' | 'reject', withBan: boolean) => {
    setBusy(true);
    setError(null);
    const body: ResolveBody = { action };
    if (note.trim()) body.note = note.trim();
    if (withBan) body.ban = { durationHours: durationHours(duration), scope: scopes };
    try {
      const res = await api.post<{ report: Report; bans: Ban[] }>(`/api/admin/reports/${encodeURIComponent(report.id)}/resolve`, body);
      const bans = res?.bans ?? [];
      setDone(
        action === 'reject'
          ? 'Report rejected.'
          : bans.length
            ? `Report accepted — ${bans.length} ban${bans.length > 1 ? 's' : ''} created (${bans.map((b) => b.scope).join(', ')}, ${
                bans[0]!.expiresAt ? `until ${new Date(bans[0]!.expiresAt).toLocaleString()}` : 'permanent'
              }).`
            : 'Report accepted (no ban).',
      );
      if (res?.report) onResolved(res.report);
      else onConflict();
    } catch (e) {
      const err = e as { code?: string };
      setError(err.code === 'already_resolved' ? `${errorMessage(e)} — someone else resolved it; reloaded.` : errorMessage(e));
      if (err.code === 'already_resolved') onConflict();
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div className="resolution done" data-testid="resolution-done">
        ✓ {done}
        {report.resolution && <ResolutionInfo report={report} />}
      </div>
    );

  if (report.status !== 'pending')
    return (
      <div className="resolution" data-testid="report-resolution">
        <ResolutionInfo report={report} />
        <ErrorLine error={error} testId="report-action-error" />
      </div>
    );

  return (
    <div className="actions-box">
      <h3>Decision</h3>
      <div className="action-row">
        <span className="label">Ban scope</span>
        <label className="check">
          <input
            type="checkbox"
            data-testid="ban-scope-device"
            disabled={conversation}
            checked={scope.device && !conversation}
            onChange={(e) => setScope({ ...scope, device: e.target.checked })}
          />
          device
        </label>
        <label className="check">
          <input
            type="checkbox"
            data-testid="ban-scope-ip"
            disabled={conversation}
            checked={scope.ip && !conversation}
            onChange={(e) => setScope({ ...scope, ip: e.target.checked })}
          />
          IP
        </label>
        <label className={`check ${accountOk ? '' : 'disabled'}`} title={accountOk ? '' : 'Only for signed-in (account) users'}>
          <input
            type="checkbox"
            data-testid="ban-scope-account"
            disabled={!accountOk}
            checked={accountOk && scope.account}
            onChange={(e) => setScope({ ...scope, account: e.target.checked })}
          />
          account
        </label>
        <span className="label">Duration</span>
        <DurationSelect testId="ban-duration" value={duration} onChange={setDuration} />
      </div>
      <div className="action-row">
        <input
          className="grow"
          data-testid="report-note"
          type="text"
          placeholder="Note (optional, kept in the audit log)"
          maxLength={1000}
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
      </div>
      <div className="action-row buttons">
        <button className="btn" data-testid="report-reject" disabled={busy} onClick={() => void resolve('reject', false)}>
          Reject
        </button>
        <button className="btn" data-testid="report-accept" disabled={busy} onClick={() => void resolve('accept', false)}>
          Accept (no ban)
        </button>
        <button
          className="btn danger"
          data-testid="report-ban"
          disabled={busy || scopes.length === 0}
          onClick={() => void resolve('accept', true)}
        >
          Accept &amp; ban
        </button>
      </div>
      <ErrorLine error={error} testId="report-action-error" />
    </div>
  );
}

function ResolutionInfo({ report }: { report: Report }) {
  const res = report.resolution;
  if (!res) return <p className="muted">Resolved ({report.status}).</p>;
  return (
    <p>
      <strong>{res.action}</strong> by <Mono value={res.by} n={12} /> · <Time value={res.at} />
      {res.note ? <> · “{res.note}”</> : null}
    </p>
  );
}
