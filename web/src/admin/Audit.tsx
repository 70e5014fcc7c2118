import { useState } from 'react';
import type { AdminApi } from './api';
import type { AuditEntry, AuditVerify } from './types';
import { ErrorLine, Mono, Time, errorMessage } from './util';
import { useEffect } from 'react';

const PAGE = 100;

export function verifyText(v: AuditVerify): string {
  if (v.ok) return `Chain intact (${v.checked} entries)`;
  return `Broken at entry #${v.firstBrokenSeq ?? '?'}: ${v.problem ?? 'unknown problem'}`;
}

export function Audit({ api }: { api: AdminApi }) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [loading, setLoading] = useState(false);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [verify, setVerify] = useState<AuditVerify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<string | null>(null);

  const load = async (before: number | null) => {
    setLoading(true);
    setError(null);
    try {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (before !== null) q.set('before', String(before));
      const res = await api.get<{ entries: AuditEntry[] }>(`/api/admin/audit-log?${q}`);
      const got = res?.entries ?? [];
      setEntries((prev) => (before === null ? got : [...prev, ...got]));
      setMore(got.length >= PAGE);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const runVerify = async () => {
    setVerifying(true);
    setVerifyError(null);
    try {
      setVerify(await api.get<AuditVerify>('/api/admin/audit-log/verify'));
    } catch (e) {
      setVerify(null);
      setVerifyError(errorMessage(e));
    } finally {
      setVerifying(false);
    }
  };

  const last = entries.at(-1);
  return (
    <section>
      <div className="section-head">
        <h2>Audit log</h2>
        <button className="btn small" onClick={() => void load(null)} disabled={loading}>
          Refresh
        </button>
        <button className="btn small" data-testid="audit-verify" onClick={() => void runVerify()} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify hash chain'}
        </button>
        {verify && (
          <span className={verify.ok ? 'ok' : 'error'} data-testid="audit-verify-result" title={`head ${verify.headHash}`}>
            {verifyText(verify)}
          </span>
        )}
        {verifyError && (
          <span className="error" data-testid="audit-verify-result">
            Could not verify: {verifyError}
          </span>
        )}
      </div>
      <ErrorLine error={error} />
      <table className="grid">
        <thead>
          <tr>
            <th>#</th>
            <th>Time</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Target</th>
            <th>Details</th>
            <th>Hash</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr
              key={e.seq}
              data-testid="audit-row"
              data-seq={e.seq}
              className={verify && !verify.ok && verify.firstBrokenSeq === e.seq ? 'broken' : ''}
            >
              <td className="num">{e.seq}</td>
              <td>
                <Time value={e.at} />
              </td>
              <td>
                {e.actorRole ? <span className={`role role-${e.actorRole}`}>{e.actorRole}</span> : null} <Mono value={e.actorId} n={10} />
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                {e.targetType ?? ''} <Mono value={e.targetId} n={10} />
              </td>
              <td className="details">
                <Details value={e.details} />
              </td>
              <td title={`prev ${e.prevHash}\nhash ${e.hash}`}>
                <Mono value={e.hash} n={8} />
              </td>
            </tr>
          ))}
          {!loading && entries.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                The audit log is empty.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="pager">
        {more && last && (
          <button className="btn small" data-testid="audit-more" disabled={loading} onClick={() => void load(last.seq)}>
            Older entries
          </button>
        )}
      </div>
    </section>
  );
}

function Details({ value }: { value: unknown }) {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === '{}') return null;
  return (
    <code title={typeof value === 'string' ? value : JSON.stringify(value, null, 2)}>
      {text.length > 120 ? text.slice(0, 120) + '…' : text}
    </code>
  );
}
