import { useEffect, useRef } from 'react';
import { Check } from 'lucide-react';
import { useT } from '../../i18n';
import { Button } from '../../ui/Button';

export function Consent({ onAccept }: { onAccept: () => void }) {
  const t = useT();
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => h1.current?.focus(), []);
  return (
    <main className="card consent" id="main">
      <h1 ref={h1} tabIndex={-1}>
        {t('consent.title')}
      </h1>
      <p>{t('consent.intro')}</p>
      <ul className="rules">
        <li>{t('consent.rule.nudity')}</li>
        <li>{t('consent.rule.harassment')}</li>
        <li>{t('consent.rule.spam')}</li>
        <li>{t('consent.rule.privacy')}</li>
        <li>{t('consent.rule.moderation')}</li>
        <li data-testid="consent-framecheck">{t('framecheck.consent.rule')}</li>
      </ul>
      <p className="muted">{t('consent.confirm')}</p>
      <Button icon={Check} variant="primary" data-testid="consent-accept" onClick={onAccept}>
        {t('consent.accept')}
      </Button>
    </main>
  );
}
