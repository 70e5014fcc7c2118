/** A report's decision box: reject, accept, or accept and ban (scope, duration, note). */
import { useEffect, useRef, useState } from 'react';
import { useT } from '../i18n';
import type { AdminApi } from './api';
import type { Ban, BanScope, Report, ResolveBody } from './types';
import { DurationSelect, ErrorLine, Mono, Time, durationHours, fmtNumber, fmtTime, label } from './util';

type Done = { action: 'reject' } | { action: 'accept'; bans: Ban[] };

export function Actions({
  api,
  report,
  onResolved,
  onConflict,
  onNext,
}: {
  api: AdminApi;
  report: Report;
  onResolved: (r: Report) => void;
  onConflict: () => void;
  onNext: (() => void) | null;
}) {
  const t = useT();
  const conversation = report.source === 'conversation';
  // A conversation report knows the account only (no device, no IP).
  const [scope, setScope] = useState<Record<BanScope, boolean>>(
    conversation ? { device: false, ip: false, account: true } : { device: true, ip: false, account: false },
  );
  const [duration, setDuration] = useState('24');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ err: unknown; conflict: boolean } | null>(null);
  const [done, setDone] = useState<Done | null>(null);
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
      setDone(action === 'reject' ? { action } : { action, bans: res?.bans ?? [] });
      if (res?.report) onResolved(res.report);
      else onConflict();
    } catch (e) {
      const conflict = (e as { code?: string }).code === 'already_resolved';
      setError({ err: e, conflict });
      if (conflict) onConflict();
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div className="resolution done" data-testid="resolution-done" role="status">
        <p>✓ {doneText(done, t)}</p>
        {report.resolution && <ResolutionInfo report={report} />}
        <NextButton onNext={onNext} />
      </div>
    );

  const errorLine = error && (
    <ErrorLine error={error.conflict ? t('admin.report.conflict') : error.err} testId="report-action-error" />
  );
  if (report.status !== 'pending')
    return (
      <div className="resolution" data-testid="report-resolution">
        <ResolutionInfo report={report} />
        {errorLine}
        <NextButton onNext={onNext} focus={false} />
      </div>
    );

  return (
    <div className="actions-box">
      <h3>{t('admin.decision.title')}</h3>
      <fieldset className="action-row">
        <legend className="label">{t('admin.decision.scope')}</legend>
        <label className="check">
          <input
            type="checkbox"
            data-testid="ban-scope-device"
            disabled={conversation}
            checked={scope.device && !conversation}
            onChange={(e) => setScope({ ...scope, device: e.target.checked })}
          />
          {label('scope', 'device')}
        </label>
        <label className="check">
          <input
            type="checkbox"
            data-testid="ban-scope-ip"
            disabled={conversation}
            checked={scope.ip && !conversation}
            onChange={(e) => setScope({ ...scope, ip: e.target.checked })}
          />
          {label('scope', 'ip')}
        </label>
        <label className={`check ${accountOk ? '' : 'disabled'}`} title={accountOk ? '' : t('admin.decision.accountOnly')}>
          <input
            type="checkbox"
            data-testid="ban-scope-account"
            disabled={!accountOk}
            checked={accountOk && scope.account}
            onChange={(e) => setScope({ ...scope, account: e.target.checked })}
          />
          {label('scope', 'account')}
        </label>
        <DurationSelect testId="ban-duration" value={duration} onChange={setDuration} />
      </fieldset>
      <div className="action-row">
        <input
          className="grow"
          data-testid="report-note"
          type="text"
          aria-label={t('admin.decision.note')}
          placeholder={t('admin.decision.note')}
          maxLength={1000}
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
      </div>
      <div className="action-row buttons">
        <button className="btn" data-testid="report-reject" disabled={busy} onClick={() => void resolve('reject', false)}>
          {t('admin.decision.reject')}
        </button>
        <button className="btn" data-testid="report-accept" disabled={busy} onClick={() => void resolve('accept', false)}>
          {t('admin.decision.accept')}
        </button>
        <button
          className="btn danger"
          data-testid="report-ban"
          disabled={busy || scopes.length === 0}
          onClick={() => void resolve('accept', true)}
        >
          {t('admin.decision.ban')}
        </button>
      </div>
      {errorLine}
    </div>
  );
}

function doneText(done: Done, t: ReturnType<typeof useT>): string {
  if (done.action === 'reject') return t('admin.decision.rejected');
  if (!done.bans.length) return t('admin.decision.acceptedNoBan');
  const first = done.bans[0]!;
  return t('admin.decision.acceptedBans', {
    count: fmtNumber(done.bans.length),
    scopes: done.bans.map((b) => label('scope', b.scope)).join(', '),
    until: first.expiresAt ? t('admin.decision.until', { time: fmtTime(first.expiresAt) }) : t('admin.duration.permanent'),
  });
}

/** "Next report": takes focus when the decision is made, so the queue goes on by keyboard. */
function NextButton({ onNext, focus = true }: { onNext: (() => void) | null; focus?: boolean }) {
  const t = useT();
  const ref = useRef<HTMLButtonElement>(null);
  const hasNext = Boolean(onNext);
  useEffect(() => {
    if (focus && hasNext) ref.current?.focus();
  }, [focus, hasNext]);
  if (!onNext)
    return (
      <p className="muted small" data-testid="report-queue-end">
        {t('admin.decision.queueEnd')}
      </p>
    );
  return (
    <button ref={ref} className="btn primary" data-testid="report-next" onClick={onNext}>
      {t('admin.decision.next')}
    </button>
  );
}

function ResolutionInfo({ report }: { report: Report }) {
  const t = useT();
  const res = report.resolution;
  if (!res) return <p className="muted">{t('admin.decision.resolved', { status: label('status', report.status) })}</p>;
  return (
    <p>
      <strong>{label('action', res.action)}</strong> {t('admin.by')} <Mono value={res.by} n={12} /> · <Time value={res.at} />
      {res.note ? <> · “{res.note}”</> : null}
    </p>
  );
}
