/** Report the other member of a conversation (or one of their messages) to the moderators. */
import { useState, type FormEvent } from 'react';
import type { ContactsController } from './callMedia';
import { errText, REPORT_REASONS, type Channel, type ReportReason } from './model';
import { t } from '../i18n';

/** Report the other member (or one of their messages) to the moderators; optionally block too. */
export function ReportForm({
  contacts,
  channel,
  messageId,
  onClose,
  onBlocked,
}: {
  contacts: ContactsController;
  channel: Channel;
  messageId?: string;
  onClose: () => void;
  onBlocked: () => void;
}) {
  const [reason, setReason] = useState<ReportReason>('harassment');
  const [comment, setComment] = useState('');
  const [alsoBlock, setAlsoBlock] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const name = channel.peer.displayName;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await contacts.report({ channelId: channel.id, messageId, reason, comment });
      setDone(true);
      if (alsoBlock && !channel.blocked && (await contacts.block(channel.peer))) onBlocked();
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div className="report done safety-panel" role="status" data-testid="report-done">
        {t('contacts.reportDone')}{' '}
        <button className="link" onClick={onClose}>
          {t('contacts.close')}
        </button>
      </div>
    );
  return (
    <form className="report safety-panel" data-testid="report-form" data-message-id={messageId ?? ''} onSubmit={(e) => void submit(e)}>
      <strong>{messageId ? t('contacts.reportTitleMessage', { name }) : t('contacts.reportTitleUser', { name })}</strong>
      <label className="field">
        <span>{t('contacts.reportReason')}</span>
        <select data-testid="report-reason" value={reason} autoFocus onChange={(e) => setReason(e.target.value as ReportReason)}>
          {REPORT_REASONS.map((r) => (
            <option key={r} value={r}>
              {t(`contacts.reason.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('contacts.reportComment')}</span>
        <textarea data-testid="report-comment" rows={2} maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      {!channel.blocked && (
        <label className="check">
          <input type="checkbox" data-testid="report-also-block" checked={alsoBlock} onChange={(e) => setAlsoBlock(e.target.checked)} />
          <span>{t('contacts.reportAlsoBlock', { name })}</span>
        </label>
      )}
      {error && (
        <p className="notice warn" role="alert" data-testid="report-error">
          {error}
        </p>
      )}
      <div className="row">
        <button className="btn danger" type="submit" data-testid="report-submit" disabled={busy}>
          {busy ? t('contacts.reportSending') : t('contacts.reportSend')}
        </button>
        <button className="btn" type="button" onClick={onClose}>
          {t('contacts.reportCancel')}
        </button>
      </div>
    </form>
  );
}

