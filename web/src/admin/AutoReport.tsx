/**
 * An automatic report's panel in the report detail (issue 17): the "automatic"
 * badge, the sampled frame the classifier flagged (the report's evidence
 * route), the classifier's scores as a table with bars, and "Mark as wrong"
 * (`POST /api/admin/reports/{id}/false-positive`), which feeds the per-label
 * false-positive rate. Reports.tsx shows it instead of the plain evidence image
 * when `source` is `auto`.
 */
import { useEffect, useState } from 'react';
import { Bot, ThumbsDown } from 'lucide-react';
import type { AdminApi } from './api';
import type { Report } from './types';
import { errorMessage } from './util';
import { useEvidenceUrl } from './ReportParts';
import { useT } from '../i18n';
import './autoreport.css';

export function isAutoReport(r: Pick<Report, 'source'>): boolean {
  return r.source === 'auto';
}

/** Scores, highest first, as label, value 0..1 and a percentage string. */
export function scoreRows(scores: Record<string, number> | null | undefined): Array<{ label: string; value: number; pct: string }> {
  if (!scores || typeof scores !== 'object') return [];
  return Object.entries(scores)
    .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
    .map(([label, v]) => {
      const value = Math.min(1, Math.max(0, v));
      return { label, value, pct: `${(value * 100).toFixed(value >= 0.995 || value === 0 ? 0 : 1)} %` };
    })
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}

export function AutoReport({ api, report }: { api: AdminApi; report: Report }) {
  const t = useT();
  const [wrong, setWrong] = useState(Boolean(report.falsePositive));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setWrong(Boolean(report.falsePositive)), [report.id, report.falsePositive]);
  const rows = scoreRows(report.scores);

  const markWrong = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ falsePositive?: boolean }>(`/api/admin/reports/${encodeURIComponent(report.id)}/false-positive`, {});
      setWrong(r?.falsePositive !== false);
    } catch (e) {
      setError(t('framecheck.admin.markFailed', { error: errorMessage(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="auto-report" data-testid="auto-report" aria-labelledby={`auto-${report.id}`}>
      <h3 id={`auto-${report.id}`}>
        {t('framecheck.admin.title')}{' '}
        <span className="tag auto-badge" data-testid="report-auto-badge" title={t('framecheck.admin.badgeTitle')}>
          <Bot aria-hidden="true" size={14} /> {t('framecheck.admin.badge')}
        </span>
      </h3>
      <div className="auto-report-body">
        {report.hasEvidence && <AutoFrame api={api} reportId={report.id} />}
        <div className="auto-scores">
          <h4>{t('framecheck.admin.scores')}</h4>
          {rows.length ? (
            <table className="grid compact" data-testid="auto-scores">
              <thead>
                <tr>
                  <th>{t('framecheck.admin.label')}</th>
                  <th>{t('framecheck.admin.score')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.label} data-testid="auto-score-row" data-label={r.label}>
                    <td>
                      <code>{r.label}</code>
                    </td>
                    <td className="score-cell">
                      <meter min={0} max={1} low={0.5} high={0.8} optimum={0} value={r.value} aria-label={r.label} />
                      <span className="score-value">{r.pct}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted small">{t('framecheck.admin.noScores')}</p>
          )}
        </div>
      </div>
      {wrong ? (
        <p className="ok" role="status" data-testid="auto-marked-wrong">
          {t('framecheck.admin.markedWrong')}
        </p>
      ) : (
        <button type="button" className="btn" data-testid="auto-mark-wrong" disabled={busy} onClick={() => void markWrong()}>
          <ThumbsDown aria-hidden="true" size={16} /> {busy ? t('framecheck.admin.marking') : t('framecheck.admin.markWrong')}
        </button>
      )}
      {error && (
        <p className="error" role="alert" data-testid="auto-mark-error">
          {error}
        </p>
      )}
    </section>
  );
}

/** The flagged frame, loaded with the staff token from the report's evidence route. */
function AutoFrame({ api, reportId }: { api: AdminApi; reportId: string }) {
  const t = useT();
  const { url, error: failure } = useEvidenceUrl(api, reportId);
  const error = failure ? errorMessage(failure) : null;
  return (
    <figure className="auto-frame">
      {url ? (
        <img data-testid="report-evidence" src={url} alt={t('framecheck.admin.frameAlt')} />
      ) : error ? (
        <p className="error" role="alert">
          {t('framecheck.admin.frameFailed', { error })}
        </p>
      ) : (
        <p className="muted small">{t('framecheck.admin.frameLoading')}</p>
      )}
      <figcaption className="muted small">{t('framecheck.admin.frame')}</figcaption>
    </figure>
  );
}
