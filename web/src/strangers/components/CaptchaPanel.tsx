import { RefreshCw } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { useT } from '../../i18n';
import { Button } from '../../ui/Button';

export function CaptchaPanel({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const c = state.captcha!;
  return (
    <div className="captcha-panel" data-testid="captcha-panel" role="status">
      <strong>{t('captcha.title')}</strong>
      {c.status === 'error' ? (
        <>
          <p className="notice warn" data-testid="captcha-error">
            {c.error}
          </p>
          <Button icon={RefreshCw} data-testid="captcha-retry" onClick={() => controller.retryCaptcha()}>
            {t('captcha.retry')}
          </Button>
        </>
      ) : (
        <p className="captcha-progress" data-testid="captcha-progress">
          <span className="spinner" aria-hidden /> {t('captcha.verifying')}
        </p>
      )}
    </div>
  );
}
