/** One message: text or tombstone, reply quote, ticks, "edited", reactions with who reacted, and its actions. */
import { lazy, Suspense, useRef, useState } from 'react';
import type { ContactsController } from './callMedia';
import { errText, failureAction, PICKER_EMOJI, REACTION_EMOJI } from './model';
import { hasReacted, type UiMessage } from '../lib/messages';
import { useBlobUrl } from './common';
import { canEdit, tickOf } from './receipts';
import { clockTime, fileSize } from './format';
import { normaliseEmoji } from './emoji/emojiData';
import { FileText, Flag, Pencil, Reply, SmilePlus, ThumbsUp, Trash2, X } from 'lucide-react';
import { PickerBoundary } from './emoji/PickerBoundary';
import { t } from '../i18n';

/** The full picker and its emoji data load on first use, not with the app. */
const ReactionPicker = lazy(() => import('./emoji/ReactionPicker'));

/** ✓ sent, ✓✓ delivered, ✓✓ (coloured) read — with the words for screen readers. */
export function Ticks({ m }: { m: Pick<UiMessage, 'status' | 'deliveredAt' | 'readAt'> }) {
  const tick = tickOf(m);
  if (tick === 'sending' || tick === 'failed') return null;
  const label = tick === 'read' ? t('messenger.tickRead') : tick === 'delivered' ? t('messenger.tickDelivered') : t('messenger.tickSent');
  return (
    <span className={`ticks ${tick}`} data-testid="message-ticks" data-tick={tick} title={label}>
      <span aria-hidden>{tick === 'sent' ? '✓' : '✓✓'}</span>
      <span className="sr-only">{label}</span>
    </span>
  );
}

/**
 * Why my message was not sent, in the language in use now (the failure is kept as the
 * server's code, reason and params), the one action that can help (Retry, Unblock, or
 * none when the refusal is final) and Remove, to give the message up.
 */
function FailedSend({
  contacts,
  m,
  peerBlocked,
  onUnblock,
}: {
  contacts: ContactsController;
  m: UiMessage;
  peerBlocked: boolean;
  onUnblock?: () => void;
}) {
  const action = failureAction(m.failure, peerBlocked);
  return (
    <span className="failed" data-testid="message-failed" data-action={action}>
      {' '}
      · {m.failure ? errText(m.failure) : t('messenger.notSent')}{' '}
      {action === 'retry' && (
        <button className="link" data-testid="message-retry" onClick={() => contacts.retry(m.clientId)}>
          {t('messenger.retry')}
        </button>
      )}
      {action === 'unblock' && onUnblock && (
        <button className="link" data-testid="message-unblock" onClick={onUnblock}>
          {t('contacts.unblock')}
        </button>
      )}
      <button className="link" data-testid="message-discard" onClick={() => contacts.discard(m.clientId)}>
        {t('messenger.discard')}
      </button>
    </span>
  );
}

export function MessageView({
  contacts,
  m,
  meId,
  names,
  onReport,
  onReply,
  onEdit,
  reportingThis,
  peerBlocked = false,
  onUnblock,
}: {
  contacts: ContactsController;
  m: UiMessage;
  meId: string;
  names: Record<string, string>;
  onReport: (messageId: string) => void;
  onReply: (m: UiMessage) => void;
  onEdit: (m: UiMessage) => void;
  reportingThis: boolean;
  /** I blocked the other person (a send refused `blocked_by_you` then offers Unblock). */
  peerBlocked?: boolean;
  onUnblock?: () => void;
}) {
  const [picking, setPicking] = useState(false);
  const pickerToggle = useRef<HTMLButtonElement>(null);
  const closePicker = () => {
    setPicking(false);
    pickerToggle.current?.focus();
  };
  const pick = (emoji: string) => {
    void contacts.toggleReaction(m.id, normaliseEmoji(emoji));
    closePicker();
  };
  const [confirmDelete, setConfirmDelete] = useState(false);
  const mine = m.senderId === meId;
  const reacted = hasReacted(m, REACTION_EMOJI, meId);
  const deleted = !!m.deletedAt;
  const live = m.status === 'sent' && !deleted;
  const who = (ids: string[]) => ids.map((id) => (id === meId ? t('messenger.you') : (names[id] ?? '?'))).join(', ');
  return (
    <div
      className={`message ${mine ? 'mine' : 'theirs'} ${m.status} ${deleted ? 'deleted' : ''}`}
      data-testid="message"
      data-message-id={m.id}
      data-mine={mine ? 'true' : 'false'}
      id={`msg-${m.id}`}
    >
      <div className="bubble">
        {m.replyTo && (
          <a className="reply-quote" data-testid="reply-quote" href={`#msg-${m.replyTo.id}`} onClick={(e) => {
            e.preventDefault();
            document.getElementById(`msg-${m.replyTo!.id}`)?.scrollIntoView({ block: 'center' });
          }}>
            <strong>{names[m.replyTo.senderId] ?? (m.replyTo.senderId === meId ? t('messenger.you') : '')}</strong>
            <span dir="auto">{m.replyTo.deleted ? t('messenger.deleted') : m.replyTo.text || (m.replyTo.hasAttachment ? t('messenger.attachmentIcon') : '')}</span>
          </a>
        )}
        {deleted ? (
          <div className="message-text tombstone muted" data-testid="message-deleted">
            {t('messenger.deleted')}
          </div>
        ) : (
          <>
            {m.attachment && <Attachment contacts={contacts} a={m.attachment} />}
            {m.text && (
              <div className="message-text" data-testid="message-text" dir="auto">
                {m.text}
              </div>
            )}
          </>
        )}
        <div className="meta">
          <span className="muted">{clockTime(m.createdAt)}</span>
          {m.editedAt && !deleted && (
            <span className="muted" data-testid="message-edited">
              {' '}
              · {t('messenger.edited')}
            </span>
          )}
          {mine && m.status === 'sending' && <span className="muted"> · {t('messenger.sending')}</span>}
          {mine && !deleted && <Ticks m={m} />}
          {m.status === 'failed' && <FailedSend contacts={contacts} m={m} peerBlocked={peerBlocked} onUnblock={onUnblock} />}
        </div>
      </div>
      <div className="reactions-row">
        <span className="message-reactions" data-testid="message-reactions">
          {m.reactions.map((r) => (
            <button
              key={r.emoji}
              className={`reaction ${r.userIds.includes(meId) ? 'on' : ''}`}
              data-testid="reaction"
              title={who(r.userIds)}
              aria-pressed={r.userIds.includes(meId)}
              disabled={!live}
              onClick={() => void contacts.toggleReaction(m.id, r.emoji)}
            >
              {r.emoji} {r.userIds.length}
              {/* The visible text starts the accessible name; who reacted follows for screen readers. */}
              <span className="sr-only"> {t('messenger.reactedBy', { names: who(r.userIds) })}</span>
            </button>
          ))}
        </span>
        {live && (
          <button
            className={`react ${reacted ? 'on' : ''}`}
            data-testid="react-button"
            aria-pressed={reacted}
            aria-label={reacted ? t('messenger.unreact', { emoji: REACTION_EMOJI }) : t('messenger.react', { emoji: REACTION_EMOJI })}
            onClick={() => void contacts.toggleReaction(m.id, REACTION_EMOJI)}
          >
            <ThumbsUp size={16} aria-hidden />
          </button>
        )}
        {live && (
          <button ref={pickerToggle} className="react" data-testid="emoji-picker-toggle" aria-haspopup="dialog" aria-expanded={picking} aria-label={t('messenger.pickEmoji')} title={t('messenger.pickEmoji')} onClick={() => setPicking((v) => !v)}>
            <SmilePlus size={16} aria-hidden />
          </button>
        )}
        {live && (
          <button className="react" data-testid="reply-button" aria-label={t('messenger.reply')} title={t('messenger.reply')} onClick={() => onReply(m)}>
            <Reply size={16} aria-hidden />
          </button>
        )}
        {live && mine && canEdit(m, meId, Date.now()) && (
          <button className="react" data-testid="edit-button" aria-label={t('messenger.editMessage')} title={t('messenger.editMessage')} onClick={() => onEdit(m)}>
            <Pencil size={16} aria-hidden />
          </button>
        )}
        {live && mine && (
          <button className="react" data-testid="delete-button" aria-expanded={confirmDelete} aria-label={t('messenger.deleteMessage')} title={t('messenger.deleteMessage')} onClick={() => setConfirmDelete((v) => !v)}>
            <Trash2 size={16} aria-hidden />
          </button>
        )}
        {!mine && live && (
          <button
            className="react report-message"
            data-testid="report-message-button"
            aria-label={t('contacts.reportMessage')}
            aria-expanded={reportingThis}
            title={t('contacts.reportMessage')}
            onClick={() => onReport(m.id)}
          >
            <Flag size={14} aria-hidden /> <span className="report-message-label">{t('contacts.reportMessageShort')}</span>
          </button>
        )}
      </div>
      {picking && (
        <div
          className="emoji-picker"
          role="dialog"
          aria-label={t('messenger.pickEmoji')}
          data-testid="emoji-picker"
          onKeyDown={(e) => {
            if (e.key === 'Escape') closePicker();
          }}
        >
          <div className="emoji-quick" role="group" aria-label={t('messenger.emoji.recent')}>
            {PICKER_EMOJI.map((e) => (
              <button
                key={e}
                className={`emoji ${hasReacted(m, e, meId) ? 'on' : ''}`}
                data-testid="emoji-option"
                aria-pressed={hasReacted(m, e, meId)}
                onClick={() => pick(e)}
              >
                {e}
              </button>
            ))}
            <button className="emoji emoji-close" data-testid="emoji-picker-close" aria-label={t('messenger.closePicker')} title={t('messenger.closePicker')} onClick={closePicker}>
              <X size={16} aria-hidden />
            </button>
          </div>
          <PickerBoundary fallback={<p className="muted small" role="alert">{t('messenger.emoji.failed')}</p>}>
            <Suspense fallback={<p className="muted small">{t('messenger.emoji.loading')}</p>}>
              <ReactionPicker onPick={pick} onClose={closePicker} />
            </Suspense>
          </PickerBoundary>
        </div>
      )}
      {confirmDelete && (
        <div className="safety-panel small" role="alertdialog" aria-label={t('messenger.deleteMessage')} data-testid="delete-confirm">
          {t('messenger.deleteConfirmText')}{' '}
          <button className="btn small-btn danger" data-testid="delete-confirm-button" autoFocus onClick={() => void contacts.deleteMessage(m.id)}>
            {t('messenger.deleteForEveryone')}
          </button>{' '}
          <button className="btn small-btn" onClick={() => setConfirmDelete(false)}>
            {t('contacts.reportCancel')}
          </button>
        </div>
      )}
    </div>
  );
}

function Attachment({ contacts, a }: { contacts: ContactsController; a: NonNullable<UiMessage['attachment']> }) {
  const src = useBlobUrl(contacts, a.url);
  const size = fileSize(a.size);
  if (a.contentType.startsWith('image/') && src)
    return (
      <a href={src} target="_blank" rel="noreferrer" className="attachment-image">
        <img data-testid="message-attachment" src={src} alt={a.filename} />
      </a>
    );
  return (
    <a className="attachment-file" data-testid="message-attachment" href={src ?? undefined} download={a.filename}>
      <FileText size={16} aria-hidden /> {a.filename} <span className="muted small">({size})</span>
    </a>
  );
}
