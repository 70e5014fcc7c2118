import { useEffect, useState } from 'react';
import { onUnavailable, type UnavailableNotice } from './api';

/**
 * "Connect is temporarily unavailable — retrying…": shown while a REST request or the
 * gateway waits out a 503 / close 1013 (a database or Redis outage), gone at the next
 * answer. The sentence comes from the i18n catalogue (see lib/api.ts, gateway/reconnect.ts).
 */
export function UnavailableBanner() {
  const [notice, setNotice] = useState<UnavailableNotice | null>(null);
  useEffect(() => onUnavailable((n) => setNotice(n.active ? n : null)), []);
  if (!notice) return null;
  return (
    <div className="notice warn unavailable-banner" role="status" aria-live="polite" data-testid="unavailable-banner">
      {notice.message}
    </div>
  );
}
