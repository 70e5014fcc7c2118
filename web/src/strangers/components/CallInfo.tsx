import { Gauge, MicOff, Timer, VideoOff } from 'lucide-react';
import type { ChatState } from '../controller';
import { useT } from '../../i18n';
import { countryName, formatDuration, formatNumber } from '../../ui/format';
import { useNow } from './useNow';

/** In a chat: call timer, connection quality, the partner's country and mic/camera state. */
export function CallInfo({ state }: { state: ChatState }) {
  const t = useT();
  const matched = state.phase === 'matched';
  const now = useNow(matched);
  if (!matched) return null;
  const pm = state.partnerMedia;
  const q = state.qualitySample;
  return (
    <div className="callinfo" data-testid="call-info">
      {state.matchedAt !== null && (
        <span className="pill" role="timer" data-testid="call-timer" aria-label={t('call.timer', { time: formatDuration(now - state.matchedAt) })}>
          <Timer aria-hidden="true" size={14} />
          <span aria-hidden="true">{formatDuration(now - state.matchedAt)}</span>
        </span>
      )}
      {state.mode === 'video' && state.quality && (
        <span
          className={`pill quality ${state.quality}`}
          data-testid="call-quality"
          data-quality={state.quality}
          title={
            q
              ? t('quality.details', {
                  rtt: q.rttMs === null ? '–' : formatNumber(q.rttMs),
                  loss: q.lossPct === null ? '–' : formatNumber(q.lossPct),
                  kbps: q.kbps === null ? '–' : formatNumber(q.kbps),
                })
              : undefined
          }
        >
          <Gauge aria-hidden="true" size={14} />
          {t('quality.label', { quality: t(`quality.${state.quality}`) })}
        </span>
      )}
      {state.partnerCountry && (
        <span className="pill" data-testid="partner-country" lang="">
          <span className="cc" aria-hidden="true">
            {state.partnerCountry}
          </span>
          <span className="sr-only">{t('call.country', { country: countryName(state.partnerCountry) })}</span>
          <span aria-hidden="true">{countryName(state.partnerCountry)}</span>
        </span>
      )}
      {pm && !pm.audio && (
        <span className="pill warn" data-testid="partner-muted">
          <MicOff aria-hidden="true" size={14} />
          {t('call.partnerMuted')}
        </span>
      )}
      {pm && !pm.video && (
        <span className="pill warn" data-testid="partner-camera-off">
          <VideoOff aria-hidden="true" size={14} />
          {pm.camera === 'none' || pm.camera === 'denied' ? t('call.partnerNoCamera') : t('call.partnerCamOff')}
        </span>
      )}
    </div>
  );
}
