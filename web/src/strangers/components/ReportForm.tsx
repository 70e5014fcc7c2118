import { useEffect, useRef, useState, type FormEvent, type RefObject } from 'react';
import { Flag } from 'lucide-react';
import type { ChatController } from '../controller';
import { REPORT_REASONS, type ReportReason } from '../../protocol';
import { captureFrame } from '../../lib/evidence';
import { hasKey, useT } from '../../i18n';
import { Button } from '../../ui/Button';

/** The report dialog (inline): focus goes to its first field when it opens, and Esc closes it. */
export function ReportForm({
  controller,
  video,
  remoteRef,
  onClose,
}: {
  controller: ChatController;
  video: boolean;
  remoteRef: RefObject<HTMLVideoElement | null>;
  onClose: () => void;
}) {
  const t = useT();
  const [reason, setReason] = useState<ReportReason>('harassment');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [attach, setAttach] = useState(true);
  const [avoid, setAvoid] = useState(true);
  const first = useRef<HTMLSelectElement>(null);
  const doneRef = useRef<HTMLDivElement>(null);
  // The frame on screen when the report form was opened (the stranger may be gone by submit time).
  const [frame] = useState<string | null>(() => (video ? captureFrame(remoteRef.current) : null));

  useEffect(() => first.current?.focus(), []);
  useEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const evidence = video && attach ? (frame ?? captureFrame(remoteRef.current)) : null;
      await controller.report(reason, comment, evidence, avoid);
      setDone(true);
    } catch (err) {
      // A server error code reads as a sentence in the visitor's language.
      const code = `errors.${(err as { code?: string }).code ?? ''}`;
      setError(hasKey(code) ? t(code) : (err as Error).message || t('report.failed'));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div className="report done" data-testid="report-done" role="status" tabIndex={-1} ref={doneRef}>
        {t('report.done')}{' '}
        <button type="button" className="link" onClick={onClose}>
          {t('app.close')}
        </button>
      </div>
    );

  return (
    <form
      className="report"
      onSubmit={submit}
      aria-labelledby="report-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <h2 id="report-title" className="report-title">
        {t('report.title')}
      </h2>
      <label className="field">
        <span>{t('report.reason')}</span>
        <select ref={first} data-testid="report-reason" value={reason} onChange={(e) => setReason(e.target.value as ReportReason)}>
          {REPORT_REASONS.map((r) => (
            <option key={r} value={r}>
              {t(`report.reason.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('report.comment')}</span>
        <textarea data-testid="report-comment" rows={2} maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      {video && (
        <label className="check">
          <input type="checkbox" data-testid="report-evidence" checked={attach} onChange={(e) => setAttach(e.target.checked)} />
          <span>{t('report.evidence')}</span>
        </label>
      )}
      <label className="check">
        <input type="checkbox" data-testid="report-avoid" checked={avoid} onChange={(e) => setAvoid(e.target.checked)} />
        <span>{t('strangers.avoid.report')}</span>
      </label>
      {error && (
        <p className="notice warn" data-testid="report-error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <Button icon={Flag} variant="danger" type="submit" data-testid="report-submit" disabled={busy}>
          {busy ? t('report.sending') : t('report.submit')}
        </Button>
        <Button onClick={onClose}>{t('app.cancel')}</Button>
      </div>
    </form>
  );
}
