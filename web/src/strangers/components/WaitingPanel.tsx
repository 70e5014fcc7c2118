import { Clock, Users, Wand2 } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { useT } from '../../i18n';
import { formatDuration, formatNumber } from '../../ui/format';
import { Button } from '../../ui/Button';
import { useNow } from './useNow';

/**
 * While searching: time waited, people online/waiting, a hint when the criteria
 * are narrow, and after `match-timeout` the one-click widen. After the partner
 * left (auto-requeue on): the countdown to the new search and "Stay here".
 */
export function WaitingPanel({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const queued = state.phase === 'queued';
  const now = useNow(queued || state.requeueInMs !== null);

  if (state.phase === 'ended' && state.requeueInMs !== null)
    return (
      <div className="waiting" data-testid="requeue-countdown" role="status">
        <span>{t('wait.requeueIn', { seconds: formatNumber(Math.max(1, Math.ceil(state.requeueInMs / 1000))) })}</span>
        <button type="button" className="link" data-testid="requeue-cancel" onClick={() => controller.cancelRequeue()}>
          {t('wait.stay')}
        </button>
      </div>
    );
  if (!queued) return null;
  const elapsed = state.waitingSince !== null ? now - state.waitingSince : 0;
  return (
    <div className="waiting" data-testid="waiting-panel">
      <p className="waiting-line">
        <Clock aria-hidden="true" size={16} />
        <span data-testid="wait-elapsed">{t('wait.elapsed', { time: formatDuration(elapsed) })}</span>
        {state.counts && (
          <>
            <Users aria-hidden="true" size={16} />
            <span data-testid="queue-counts">
              {t('wait.counts', { online: formatNumber(state.counts.online), waiting: formatNumber(state.counts.waiting) })}
            </span>
          </>
        )}
      </p>
      {state.narrow.length > 0 && !state.timeoutSuggest && (
        <p className="small muted" data-testid="narrow-hint">
          {t('wait.narrow')}
        </p>
      )}
      {state.timeoutSuggest && (
        <div className="timeout-notice" data-testid="match-timeout" role="status">
          <p>{t('wait.timeout')}</p>
          {state.timeoutSuggest.length > 0 && (
            <>
              <Button icon={Wand2} variant="primary" data-testid="widen-button" onClick={() => controller.widen()}>
                {t('wait.widen')}
              </Button>
              <span className="small muted">{state.timeoutSuggest.map((k) => t(`wait.widen.${k}`)).join(' · ')}</span>
            </>
          )}
        </div>
      )}
    </div>
  );
}
