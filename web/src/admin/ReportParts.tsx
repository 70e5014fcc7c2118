/**
 * The read-only parts of a report's detail: evidence image, transcript, the
 * reported subject's history (earlier reports, bans, flags).
 */
import { useEffect, useState } from 'react';
import type { AdminApi } from './api';
import type { Ban, Flag, Report } from './types';
import { ErrorLine, Mono, Time, errorMessage, fmtAgo, fmtClock } from './util';

export function Evidence({ api, reportId }: { api: AdminApi; reportId: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
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
      .catch((e) => alive && setError(errorMessage(e)));
    return () => {
      alive = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, reportId]);
  return (
    <div className="evidence">
      <h3>Evidence</h3>
      {url ? (
        <a href={url} target="_blank" rel="noreferrer">
          <img data-testid="report-evidence" src={url} alt="Snapshot of the reported user's video" />
        </a>
      ) : error ? (
        <ErrorLine error={`Could not load the evidence: ${error}`} />
      ) : (
        <p className="muted">Loading snapshot…</p>
      )}
    </div>
  );
}

export function Transcript({ report }: { report: Report }) {
  const lines = report.transcript;
  if (!lines || lines.length === 0)
    return (
      <div className="transcript empty" data-testid="report-transcript">
        {lines ? 'No messages were exchanged.' : 'No transcript available.'}
      </div>
    );
  const reportedPeer = report.reportedPeerId ?? report.reportedAccount?.id ?? null;
  return (
    <div className="transcript" data-testid="report-transcript">
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
            <span className="twho">{side === 'reported' ? 'Reported' : side === 'reporter' ? 'Reporter' : short(l.from)}</span>
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
  const reports = (history?.reports ?? []).filter((x) => x.id !== currentId);
  const bans = history?.bans ?? [];
  const flags = history?.flags ?? [];
  if (!reports.length && !bans.length && !flags.length)
    return (
      <p className="muted small" data-testid="report-history">
        No earlier reports, bans or flags.
      </p>
    );
  return (
    <div data-testid="report-history" className="history">
      {reports.length > 0 && (
        <table className="grid compact">
          <thead>
            <tr>
              <th>Earlier report</th>
              <th>Reason</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {reports.map((x) => (
              <tr key={x.id}>
                <td>
                  <Time value={x.createdAt} />
                </td>
                <td>{x.reason}</td>
                <td>
                  <span className={`tag status-${x.status}`}>{x.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {bans.length > 0 && <BanMiniTable bans={bans} />}
      {flags.length > 0 && <FlagList flags={flags} />}
    </div>
  );
}

function BanMiniTable({ bans }: { bans: Ban[] }) {
  return (
    <table className="grid compact">
      <thead>
        <tr>
          <th>Ban</th>
          <th>Reason</th>
          <th>Until</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {bans.map((b) => (
          <tr key={b.id}>
            <td>
              {b.scope} <Mono value={b.value} n={8} />
            </td>
            <td>{b.reason}</td>
            <td>{b.expiresAt ? <Time value={b.expiresAt} /> : 'permanent'}</td>
            <td>{b.active ? <span className="tag status-active">active</span> : <span className="tag">ended</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FlagList({ flags, testId }: { flags: Flag[] | undefined; testId?: string }) {
  if (!flags || flags.length === 0)
    return (
      <p className="muted small" data-testid={testId}>
        No flags.
      </p>
    );
  return (
    <ul className="flags" data-testid={testId}>
      {flags.map((f, i) => (
        <li key={i}>
          <span className="tag flag">{f.kind}</span> {f.detail} <span className="muted small">· {fmtAgo(f.createdAt)}</span>
        </li>
      ))}
    </ul>
  );
}

