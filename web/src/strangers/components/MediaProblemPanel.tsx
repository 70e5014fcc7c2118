import { MessageSquareText, RefreshCw, VideoOff } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { browserFamily } from '../../media/devices';
import { useT } from '../../i18n';
import { Button } from '../../ui/Button';

/** No camera/microphone: why, how to allow it in this browser, Try again, or Continue with text. */
export function MediaProblemPanel({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const problem = state.mediaError;
  if (!problem) return null;
  const family = browserFamily(typeof navigator === 'undefined' ? '' : navigator.userAgent);
  return (
    <div className="media-problem" role="alert" data-testid="media-problem">
      <p className="media-problem-title">
        <VideoOff aria-hidden="true" size={18} /> {t(`media.${problem}`)}
      </p>
      {problem === 'denied' && <p className="small">{t(`media.help.${family}`)}</p>}
      {state.screen === 'chat' && <p className="small muted">{t('media.watchOnly')}</p>}
      <div className="row wrap">
        <Button icon={RefreshCw} data-testid="media-retry" onClick={() => void controller.media.open()}>
          {t('media.retry')}
        </Button>
        <Button icon={MessageSquareText} data-testid="media-text" onClick={() => controller.continueWithText()}>
          {t('media.textInstead')}
        </Button>
      </div>
    </div>
  );
}
