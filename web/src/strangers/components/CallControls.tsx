import { Flag, Mic, MicOff, SkipForward, UserX, Video as VideoIcon, VideoOff, X } from 'lucide-react';
import type { RefObject } from 'react';
import type { ChatController, ChatState } from '../controller';
import { useT } from '../../i18n';
import { Button } from '../../ui/Button';

/** Mute, camera, Next, "Next, don't show again", End and Report. */
export function CallControls({
  controller,
  state,
  nextRef,
  reportRef,
  reportOpen,
  onReport,
}: {
  controller: ChatController;
  state: ChatState;
  nextRef: RefObject<HTMLButtonElement | null>;
  reportRef: RefObject<HTMLButtonElement | null>;
  reportOpen: boolean;
  onReport: () => void;
}) {
  const t = useT();
  const video = state.mode === 'video';
  const nextLabel = state.phase === 'ended' || state.phase === 'offline' ? t('call.newStranger') : t('call.next');
  return (
    <div className="controls" role="group" aria-label={t('call.controls')}>
      {video && (
        <>
          <Button
            icon={state.micOn ? Mic : MicOff}
            variant={state.micOn ? undefined : 'off'}
            compact
            data-testid="mute-button"
            aria-pressed={!state.micOn}
            disabled={!state.localStream}
            onClick={() => controller.toggleMic()}
          >
            {state.micOn ? t('call.mute') : t('call.unmute')}
          </Button>
          <Button
            icon={state.camOn ? VideoIcon : VideoOff}
            variant={state.camOn ? undefined : 'off'}
            compact
            data-testid="camera-button"
            aria-pressed={!state.camOn}
            disabled={!state.localStream}
            onClick={() => controller.toggleCamera()}
          >
            {state.camOn ? t('call.cameraOff') : t('call.cameraOn')}
          </Button>
        </>
      )}
      <button
        ref={nextRef}
        type="button"
        className="btn primary"
        data-testid="next-button"
        onClick={() => controller.next()}
        disabled={state.phase === 'connecting'}
      >
        <SkipForward aria-hidden="true" className="icon" size={18} />
        <span className="label">{nextLabel}</span>
      </button>
      {controller.canAvoid() && (
        <Button icon={UserX} compact data-testid="next-avoid-button" title={t('strangers.avoid.nextLabel')} onClick={() => controller.next({ avoid: true })}>
          {t('strangers.avoid.next')}
        </Button>
      )}
      <Button icon={X} compact data-testid="end-button" onClick={() => controller.end()}>
        {t('call.end')}
      </Button>
      <button
        ref={reportRef}
        type="button"
        className="btn danger compact"
        data-testid="report-button"
        aria-expanded={reportOpen}
        disabled={!state.reportableSessionId}
        onClick={onReport}
      >
        <Flag aria-hidden="true" className="icon" size={18} />
        <span className="label">{t('call.report')}</span>
      </button>
    </div>
  );
}
