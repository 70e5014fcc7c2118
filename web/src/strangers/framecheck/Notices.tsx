/**
 * What automatic frame moderation shows in a strangers video chat:
 * - ModeratedOverlay: over the partner's video, blurred at once by the
 *   `moderated` class, when their video was hidden (`video-hidden`): why, in
 *   words, and a prominent Next that takes focus;
 * - FlaggedNotice: to the sender (`video-flagged`): their video was hidden from
 *   the partner because it may break the rules.
 */
import { useEffect, useRef } from 'react';
import { ShieldAlert, SkipForward } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { useT } from '../../i18n';
import './framecheck.css';

/** The class the partner's <video> gets while hidden (CSS blur; see framecheck.css). */
export function remoteVideoClass(state: ChatState): string {
  return state.videoHidden ? 'remote moderated' : 'remote';
}

export function ModeratedOverlay({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const next = useRef<HTMLButtonElement>(null);
  const hidden = Boolean(state.videoHidden) && state.phase === 'matched';
  useEffect(() => {
    if (hidden) next.current?.focus();
  }, [hidden, state.sessionId]);
  if (!hidden) return null;
  return (
    <div className="moderated-overlay" data-testid="video-hidden" role="alert">
      <ShieldAlert aria-hidden="true" size={36} />
      <p className="moderated-title">{t('framecheck.hidden.title')}</p>
      <p className="moderated-body">{t('framecheck.hidden.body')}</p>
      <button ref={next} type="button" className="btn primary moderated-next" data-testid="video-hidden-next" onClick={() => controller.next()}>
        <SkipForward aria-hidden="true" className="icon" size={18} />
        <span className="label">{t('framecheck.hidden.next')}</span>
      </button>
    </div>
  );
}

export function FlaggedNotice({ state }: { state: ChatState }) {
  const t = useT();
  if (!state.videoFlagged || state.phase !== 'matched') return null;
  return (
    <p className="notice flagged-notice" data-testid="video-flagged" role="alert">
      <ShieldAlert aria-hidden="true" size={18} /> {t('framecheck.flagged')}
    </p>
  );
}
