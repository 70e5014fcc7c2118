/** The hash-chained audit log: newest first, older pages on demand, and a chain check. */
import { useEffect, useState } from 'react';
import { t, useT } from '../i18n';
import type { AdminApi } from './api';
import type { AuditEntry, AuditVerify } from './types';
import { ErrorLine, Mono, TableScroll, Time, errorMessage as errorText, fmtNumber, label } from './util';

const PAGE = 100;

export function verifyText(v: AuditVerify): string {
  if (v.ok) return t('admin.audit.intact', { count: fmtNumber(v.checked) });
  return t('admin.audit.broken', { seq: v.firstBrokenSeq ?? '?', problem: v.problem ?? t('admin.audit.unknownProblem') });
}

export function Audit({ api }: { api: AdminApi }) {
  useT();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [loading, setLoading] = useState(false);
  const [more, setMore] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [verify, setVerify] = useState<AuditVerify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<unknown>(null);

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
      setError(e);
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
      setVerifyError(e);
    } finally {
      setVerifying(false);
    }
  };

  const last = entries.at(-1);
  return (
    <section>
      <div className="section-head">
        <h1>{t('admin.audit.title')}</h1>
        <button className="btn small" onClick={() => void load(null)} disabled={loading}>
          {t('admin.refresh')}
        </button>
        <button className="btn small" data-testid="audit-verify" onClick={() => void runVerify()} disabled={verifying}>
          {verifying ? t('admin.audit.verifying') : t('admin.audit.verify')}
        </button>
        {verify && (
          <span className={verify.ok ? 'ok' : 'error'} data-testid="audit-verify-result" role="status" title={t('admin.audit.head', { hash: verify.headHash })}>
            {verifyText(verify)}
          </span>
        )}
        {verifyError !== null && (
          <ErrorLine error={t('admin.audit.verifyFailed', { error: errorText(verifyError) })} testId="audit-verify-result" />
        )}
      </div>
      <ErrorLine error={error} />
      <TableScroll label={t('admin.audit.title')}>
      <table className="grid cards">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('admin.audit.col.time')}</th>
            <th>{t('admin.audit.col.actor')}</th>
            <th>{t('admin.audit.col.action')}</th>
            <th>{t('admin.audit.col.target')}</th>
            <th>{t('admin.audit.col.details')}</th>
            <th>{t('admin.audit.col.hash')}</th>
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
              <td data-label="#" className="num">{fmtNumber(e.seq)}</td>
              <td data-label={t('admin.audit.col.time')}>
                <Time value={e.at} />
              </td>
              <td data-label={t('admin.audit.col.actor')}>
                {e.actorRole ? <span className={`role role-${e.actorRole}`}>{label('staff.role', e.actorRole)}</span> : null} <Mono value={e.actorId} n={10} />
              </td>
              <td data-label={t('admin.audit.col.action')}>
                <span title={e.action}>{label('audit.action', e.action)}</span>
              </td>
              <td data-label={t('admin.audit.col.target')}>
                {e.targetType ? label('audit.target', e.targetType) : ''} <Mono value={e.targetId} n={10} />
              </td>
              <td data-label={t('admin.audit.col.details')} className="details">
                <Details value={e.details} />
              </td>
              <td data-label={t('admin.audit.col.hash')} title={`${e.prevHash}\n${e.hash}`}>
                <Mono value={e.hash} n={8} />
              </td>
            </tr>
          ))}
          {!loading && entries.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                {t('admin.audit.empty')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      </TableScroll>
      <div className="pager">
        {more && last && (
          <button className="btn small" data-testid="audit-more" disabled={loading} onClick={() => void load(last.seq)}>
            {t('admin.audit.older')}
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
    <code dir="ltr" title={typeof value === 'string' ? value : JSON.stringify(value, null, 2)}>
      {text.length > 120 ? text.slice(0, 120) + '…' : text}
    </code>
  );
}
