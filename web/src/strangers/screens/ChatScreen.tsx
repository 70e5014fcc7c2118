import { useEffect, useRef, useState } from 'react';
import { Settings2 } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { statusText } from '../controller';
import { useT } from '../../i18n';
import { Video } from '../components/Video';
import { ChatPanel } from '../components/ChatPanel';
import { CaptchaPanel } from '../components/CaptchaPanel';
import { ReportForm } from '../components/ReportForm';
import { CallControls } from '../components/CallControls';
import { CallInfo } from '../components/CallInfo';
import { WaitingPanel } from '../components/WaitingPanel';
import { ReactionPicker, ReactionStream } from '../components/Reactions';
import { ShortcutList, useShortcuts } from '../components/Shortcuts';
import { DevicePickers } from '../components/DevicePickers';
import { MediaProblemPanel } from '../components/MediaProblemPanel';
import { FlaggedNotice, ModeratedOverlay, remoteVideoClass } from '../framecheck/Notices';

/**
 * The chat screen: the stage (video mode), status, waiting/call information,
 * transcript and controls. Focus follows the flow: the message box on a match,
 * the Next button when the chat ends, the report form when it opens and the
 * Report button when it closes.
 */
export function ChatScreen({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const [showReport, setShowReport] = useState(false);
  const remoteRef = useRef<HTMLVideoElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const nextRef = useRef<HTMLButtonElement>(null);
  const reportRef = useRef<HTMLButtonElement>(null);
  const video = state.mode === 'video';
  const status = statusText(state);
  useShortcuts(controller, state, !showReport);

  // A new chat starts clean: no report box from the last one.
  useEffect(() => setShowReport(false), [state.reportableSessionId]);
  useEffect(() => {
    if (state.phase === 'matched') inputRef.current?.focus();
    else if (state.phase === 'ended' || state.phase === 'offline') {
      // Keep focus where it is when the visitor is typing in the report form.
      if (!document.activeElement?.closest('.report')) nextRef.current?.focus();
    }
  }, [state.phase, state.sessionId]);

  const closeReport = () => {
    setShowReport(false);
    requestAnimationFrame(() => reportRef.current?.focus());
  };

  const pm = state.partnerMedia;
  const partnerDark = state.phase === 'matched' && pm && !pm.video;
  return (
    <main className={`chat ${video ? 'video-mode' : 'text-mode'}`} id="main">
      <h1 className="sr-only">{t('start.title')}</h1>
      {video && (
        <section className="stage" aria-label={t('call.remoteVideo')}>
          <Video stream={state.remoteStream} testId="remote-video" className={remoteVideoClass(state)} videoRef={remoteRef} label={t('call.remoteVideo')} />
          {(!state.remoteStream || partnerDark) && (
            <div className={`stage-placeholder ${partnerDark ? 'dim' : ''}`} data-testid={partnerDark ? 'stage-partner-off' : undefined}>
              {partnerDark ? (pm.camera === 'ok' ? t('call.partnerCamOff') : t('call.partnerNoCamera')) : status}
            </div>
          )}
          <Video stream={state.localStream} muted testId="local-video" className={`local ${state.camOn ? '' : 'off'}`} label={t('call.localVideo')} />
          <ReactionStream state={state} />
          <ModeratedOverlay controller={controller} state={state} />
        </section>
      )}

      <section className="side">
        <div className="statusbar">
          <span className={`dot ${state.phase}`} aria-hidden />
          <span data-testid="status" role="status" aria-live="polite">
            {status}
          </span>
        </div>
        {state.escArmed && (
          <p className="notice" role="status" data-testid="esc-armed">
            {t('call.escAgain')}
          </p>
        )}
        <CallInfo state={state} />
        <WaitingPanel controller={controller} state={state} />
        {state.commonInterests.length > 0 && state.phase === 'matched' && (
          <div className="common" data-testid="common-interests">
            {t('chat.bothLike')}{' '}
            {state.commonInterests.map((i) => (
              <span className="chip" key={i}>
                {i}
              </span>
            ))}
          </div>
        )}
        {video && <MediaProblemPanel controller={controller} state={state} />}
        {video && <FlaggedNotice state={state} />}
        {state.captcha && <CaptchaPanel controller={controller} state={state} />}
        {state.notice && (
          <p className="notice" data-testid="notice" role="status" onClick={() => controller.dismissNotice()}>
            {state.notice}
          </p>
        )}

        <div className="controls-area">
          <CallControls
            controller={controller}
            state={state}
            nextRef={nextRef}
            reportRef={reportRef}
            reportOpen={showReport}
            onReport={() => setShowReport((v) => !v)}
          />
          {video && state.phase === 'matched' && <ReactionPicker controller={controller} state={state} />}
        </div>
        {showReport && <ReportForm key={state.reportableSessionId ?? ''} controller={controller} video={video} remoteRef={remoteRef} onClose={closeReport} />}

        <ChatPanel controller={controller} state={state} inputRef={inputRef} />
        <div className="extras">
          {video && (
            <details className="devices-inline">
              <summary>
                <Settings2 aria-hidden="true" size={16} /> {t('devices.settings')}
              </summary>
              <DevicePickers controller={controller} state={state} />
            </details>
          )}
          <ShortcutList video={video} />
        </div>
      </section>
    </main>
  );
}
