/** The call on every route: incoming dialog, the call screen (timer, share screen, add video), and the end notice. */
import { useEffect, useRef, useState } from 'react';
import type { ContactsController } from './callMedia';
import { callEndText, callStatusText, isCallActive } from '../lib/callState';
import { Avatar, formatDuration, useContacts } from './common';
import { t } from '../i18n';

function MediaView({ stream, muted, testId, className, tracks }: { stream: MediaStream | null; muted?: boolean; testId: string; className: string; tracks: number }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (muted) {
      el.muted = true;
      el.setAttribute('muted', '');
    }
    // A track added to the same stream (upgrade to video) needs the element to look again.
    if (el.srcObject !== stream || tracks) {
      el.srcObject = null;
      el.srcObject = stream;
    }
    if (stream) el.play().catch(() => undefined);
  }, [stream, muted, tracks]);
  return <video ref={ref} className={className} data-testid={testId} muted={muted} autoPlay playsInline />;
}

function CallTimer({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  return (
    <span className="call-timer" data-testid="call-timer" aria-label={t('messenger.callDuration')}>
      {formatDuration((now - since) / 1000)}
    </span>
  );
}

function DevicePickers({ contacts }: { contacts: ContactsController }) {
  const s = useContacts(contacts);
  useEffect(() => {
    void contacts.listDevices();
  }, [contacts]);
  const cam = s.localStream?.getVideoTracks()[0];
  const mic = s.localStream?.getAudioTracks()[0];
  const current = (x: MediaStreamTrack | undefined) => {
    try {
      return x?.getSettings?.().deviceId ?? '';
    } catch {
      return '';
    }
  };
  return (
    <span className="call-devices">
      {mic && s.devices.mics.length > 1 && (
        <select data-testid="call-mic-select" aria-label={t('messenger.micPick')} value={current(mic)} onChange={(e) => void contacts.switchDevice('mic', e.target.value)}>
          {s.devices.mics.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      )}
      {cam && !s.sharing && s.devices.cameras.length > 1 && (
        <select data-testid="call-camera-select" aria-label={t('messenger.cameraPick')} value={current(cam)} onChange={(e) => void contacts.switchDevice('camera', e.target.value)}>
          {s.devices.cameras.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      )}
    </span>
  );
}

export function CallLayer({ contacts }: { contacts: ContactsController }) {
  const s = useContacts(contacts);
  const c = s.call;
  if (s.auth !== 'loggedIn') return null;

  if (c.phase === 'incoming')
    return (
      <div className="incoming-call" data-testid="incoming-call" role="alertdialog" aria-label={t('messenger.incomingCall')}>
        <Avatar c={contacts} user={c.peer} size={56} />
        <div className="incoming-text">
          <strong data-testid="incoming-caller">{c.peer?.displayName}</strong>
          <span data-testid="incoming-media">{c.media === 'audio' ? t('messenger.audioCall') : t('messenger.videoCall')}</span>
        </div>
        <div className="row">
          <button className="btn danger" data-testid="call-reject" onClick={() => contacts.reject()}>
            {t('messenger.decline')}
          </button>
          <button className="btn primary" data-testid="call-accept" autoFocus onClick={() => void contacts.answer()}>
            {t('messenger.accept')}
          </button>
        </div>
      </div>
    );

  if (isCallActive(c)) {
    const ringing = c.phase === 'placing' || c.phase === 'outgoing';
    const localVideo = !!s.localStream?.getVideoTracks().length;
    const video = c.media === 'video' || s.remoteVideo || s.upgraded;
    const remoteTracks = s.remoteStream?.getTracks().length ?? 0;
    return (
      <div
        className={`call-screen ${video ? 'video' : 'audio'}`}
        role="dialog"
        aria-modal="true"
        aria-label={t('messenger.callScreen', { name: c.peer?.displayName ?? '' })}
        data-testid="call-screen"
        data-call-id={c.callId ?? ''}
        data-sharing={s.sharing ? 'true' : 'false'}
      >
        <div className="call-stage">
          <MediaView stream={s.remoteStream} testId="call-remote-video" className="call-remote" tracks={remoteTracks} />
          {(!s.remoteVideo || !s.remoteStream) && (
            <div className="call-placeholder">
              <Avatar c={contacts} user={c.peer} size={96} />
              <strong>{c.peer?.displayName}</strong>
            </div>
          )}
          <MediaView
            stream={s.localStream}
            muted
            testId="call-local-video"
            className={`call-local ${(s.camOn || s.sharing) && localVideo ? '' : 'off'} ${s.sharing ? 'sharing' : ''}`}
            tracks={s.localStream?.getTracks().length ?? 0}
          />
        </div>
        <div className="call-bar">
          <span className="call-status" data-testid="call-status" role="status" aria-live="polite">
            {callStatusText(c)}
          </span>
          {c.phase === 'connected' && s.connectedAt !== null && <CallTimer since={s.connectedAt} />}
          {c.phase === 'connected' && s.quality && (
            <span
              className={`pill quality ${s.quality}`}
              data-testid="call-quality"
              data-quality={s.quality}
              title={
                s.qualitySample
                  ? t('quality.details', { rtt: s.qualitySample.rttMs ?? '–', loss: s.qualitySample.lossPct ?? '–', kbps: s.qualitySample.kbps ?? '–' })
                  : undefined
              }
            >
              {t('quality.label', { quality: t(`quality.${s.quality}`) })}
            </span>
          )}
          {(c.phase === 'connected' || c.phase === 'connecting') && <DevicePickers contacts={contacts} />}
          {s.sharing && (
            <span className="small" data-testid="sharing-notice">
              {t('messenger.sharingNow')}
            </span>
          )}
          {s.mediaError && <span className="call-media-error small">{s.mediaError}</span>}
          {ringing && (
            <div className="call-ringing" data-testid="call-ringing">
              {t('messenger.calling', { name: c.peer?.displayName ?? '' })}
              <button className="btn danger" data-testid="call-cancel" onClick={() => contacts.hangup()}>
                {t('contacts.reportCancel')}
              </button>
            </div>
          )}
          <div className="call-controls">
            <button
              className={`btn ${s.micOn ? '' : 'off'}`}
              data-testid="call-mute"
              aria-pressed={!s.micOn}
              disabled={!s.localStream}
              onClick={() => contacts.toggleMic()}
            >
              {s.micOn ? t('messenger.micOff') : t('messenger.micOn')}
            </button>
            <button
              className={`btn ${s.camOn ? '' : 'off'}`}
              data-testid="call-camera"
              aria-pressed={!s.camOn}
              disabled={!s.localStream || !localVideo || s.sharing}
              onClick={() => contacts.toggleCamera()}
            >
              {s.camOn ? t('messenger.camOff') : t('messenger.camOn')}
            </button>
            {c.phase === 'connected' && !localVideo && (
              <button className="btn" data-testid="call-upgrade-video" onClick={() => void contacts.upgradeToVideo()}>
                {t('messenger.addVideo')}
              </button>
            )}
            {(c.phase === 'connected' || c.phase === 'connecting') && (
              <button
                className={`btn ${s.sharing ? 'on' : ''}`}
                data-testid="call-share-screen"
                aria-pressed={s.sharing}
                onClick={() => void (s.sharing ? contacts.stopScreenShare() : contacts.startScreenShare())}
              >
                {s.sharing ? t('messenger.stopSharing') : t('messenger.shareScreen')}
              </button>
            )}
            {/* Focus starts on Hang up when the call screen opens (the one control every call has). */}
            <button className="btn hangup" data-testid="call-hangup" autoFocus onClick={() => contacts.hangup()}>
              {ringing ? t('contacts.reportCancel') : t('messenger.hangUp')}
            </button>
          </div>
        </div>
      </div>
    );
  }

  return null;
}

/** The end-of-call notice / call error, as a banner under the top bar (in the page flow). */
export function CallNotice({ contacts }: { contacts: ContactsController }) {
  const s = useContacts(contacts);
  const c = s.call;
  if (s.auth !== 'loggedIn') return null;
  if (c.phase === 'ended' && c.endKind)
    return (
      <div className="call-notice" role="status">
        <span data-testid="call-ended" data-reason={c.endKind}>
          {callEndText(c.endKind)}
        </span>
        <button className="link" data-testid="call-ended-dismiss" onClick={() => contacts.dismissCall()}>
          {t('messenger.ok')}
        </button>
      </div>
    );

  if (c.error)
    return (
      <div className="call-notice warn" role="alert">
        <span data-testid="call-error">{c.error}</span>
        <button className="link" onClick={() => contacts.dismissCall()}>
          {t('messenger.ok')}
        </button>
      </div>
    );

  return null;
}
