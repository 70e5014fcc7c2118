/**
 * The read-only parts of a report's detail: evidence image, transcript, the
 * reported subject's history (earlier reports, bans, flags).
 */
import { useEffect, useState } from 'react';
import { useT } from '../i18n';
import type { AdminApi } from './api';
import type { Ban, Flag, Report } from './types';
import { banReason } from './banText';
import { ErrorLine, Mono, TableScroll, Time, errorMessage, fmtAgo, fmtClock, label } from './util';

/** A report's evidence image as an object URL, fetched with the staff token (revoked on unmount). */
export function useEvidenceUrl(api: AdminApi, reportId: string): { url: string | null; error: unknown } {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let alive = true;
    let objectUrl: string | null = null;
    api
      .blob(`/api/admin/reports/${encodeURIComponent(reportId)}/evidence`)
      .then((b) => {
        if (!alive) return;
        objectUrl = URL.createObjectURL(b);
        setUrl(objectUrl);
      })
      .catch((e) => alive && setError(e ?? new Error('')));
    return () => {
      alive = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, reportId]);
  return { url, error };
}

export function Evidence({ api, reportId }: { api: AdminApi; reportId: string }) {
  const t = useT();
  const { url, error } = useEvidenceUrl(api, reportId);
  return (
    <div className="evidence">
      <h3>{t('admin.evidence.title')}</h3>
      {url ? (
        <a href={url} target="_blank" rel="noreferrer">
          <img data-testid="report-evidence" src={url} alt={t('admin.evidence.alt')} />
        </a>
      ) : error ? (
        <ErrorLine error={t('admin.evidence.failed', { error: errorMessage(error) })} />
      ) : (
        <p className="muted">{t('admin.evidence.loading')}</p>
      )}
    </div>
  );
}

export function Transcript({ report }: { report: Report }) {
  const t = useT();
  const lines = report.transcript;
  if (!lines || lines.length === 0)
    return (
      <div className="transcript empty" data-testid="report-transcript">
        {lines ? t('admin.transcript.noMessages') : t('admin.transcript.none')}
      </div>
    );
  const reportedPeer = report.reportedPeerId ?? report.reportedAccount?.id ?? null;
  return (
    <div className="transcript" data-testid="report-transcript" role="region" tabIndex={0} aria-label={t('admin.report.transcript')}>
      {lines.map((l, i) => {
        const side = reportedPeer ? (l.from === reportedPeer ? 'reported' : 'reporter') : 'unknown';
        return (
          <div
            key={i}
            className={`tline ${side} ${l.reported ? 'reported-line' : ''}`}
            data-testid="transcript-line"
            data-side={side}
            data-reported={l.reported ? 'true' : undefined}
          >
            <span className="tts">{fmtClock(l.ts)}</span>
            <span className="twho">{side === 'reported' ? t('admin.transcript.reported') : side === 'reporter' ? t('admin.transcript.reporter') : short(l.from)}</span>
            <span className="ttext">{l.text}</span>
          </div>
        );
      })}
    </div>
  );
}

function short(v: string): string {
  return v.length > 8 ? v.slice(0, 8) + '…' : v;
}

export function History({ history, currentId }: { history: Report['history'] | undefined; currentId: string }) {
  const t = useT();
  const reports = (history?.reports ?? []).filter((x) => x.id !== currentId);
  const bans = history?.bans ?? [];
  const flags = history?.flags ?? [];
  if (!reports.length && !bans.length && !flags.length)
    return (
      <p className="muted small" data-testid="report-history">
        {t('admin.history.none')}
      </p>
    );
  return (
    <div data-testid="report-history" className="history">
      {reports.length > 0 && (
        <TableScroll label={t('admin.history.reports')}>
        <table className="grid compact">
          <thead>
            <tr>
              <th>{t('admin.history.reports')}</th>
              <th>{t('admin.report.reason')}</th>
              <th>{t('admin.reports.status')}</th>
            </tr>
          </thead>
          <tbody>
            {reports.map((x) => (
              <tr key={x.id}>
                <td>
                  <Time value={x.createdAt} />
                </td>
                <td>{label('reason', x.reason)}</td>
                <td>
                  <span className={`tag status-${x.status}`}>{label('status', x.status)}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </TableScroll>
      )}
      {bans.length > 0 && <BanMiniTable bans={bans} />}
      {flags.length > 0 && <FlagList flags={flags} />}
    </div>
  );
}

function BanMiniTable({ bans }: { bans: Ban[] }) {
  const t = useT();
  return (
    <TableScroll label={t('admin.history.bans')}>
    <table className="grid compact">
      <thead>
        <tr>
          <th>{t('admin.history.ban')}</th>
          <th>{t('admin.report.reason')}</th>
          <th>{t('admin.history.until')}</th>
          <th>{t('admin.bans.col.state')}</th>
        </tr>
      </thead>
      <tbody>
        {bans.map((b) => (
          <tr key={b.id}>
            <td>
              {label('scope', b.scope)} <Mono value={b.value} n={8} />
            </td>
            <td>{banReason(b)}</td>
            <td>{b.expiresAt ? <Time value={b.expiresAt} /> : t('admin.duration.permanent')}</td>
            <td>
              {b.active ? <span className="tag status-active">{label('banState', 'active')}</span> : <span className="tag">{t('admin.history.ended')}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </TableScroll>
  );
}

export function FlagList({ flags, testId }: { flags: Flag[] | undefined; testId?: string }) {
  const t = useT();
  if (!flags || flags.length === 0)
    return (
      <p className="muted small" data-testid={testId}>
        {t('admin.flags.none')}
      </p>
    );
  return (
    <ul className="flags" data-testid={testId}>
      {flags.map((f, i) => (
        <li key={i}>
          <span className="tag flag">{label('flag', f.kind)}</span> {f.detail} <span className="muted small">· {fmtAgo(f.createdAt)}</span>
        </li>
      ))}
    </ul>
  );
}

