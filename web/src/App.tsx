import { UnavailableBanner } from './lib/UnavailableBanner';
import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent, type RefObject } from 'react';
import { ChatController, MAX_MESSAGE_CHARS, statusText, type ChatState } from './lib/controller';
import { parseInterests } from './lib/interests';
import { safeStorage } from './lib/api';
import { captureFrame } from './lib/evidence';
import { REPORT_REASONS, type ChatMode, type ReportReason } from './protocol';
import { CallLayer, CallNotice, ContactsApp, parseContactsRoute, type ContactsRoute } from './contacts/ContactsApp';
import type { ContactsController } from './lib/contacts';
import { t } from './i18n';

const CONSENT_KEY = 'connect.consent';

export const LANGUAGES: Array<[string, string]> = [
  ['', 'Any language'],
  ['en', 'English'],
  ['es', 'Español'],
  ['fr', 'Français'],
  ['de', 'Deutsch'],
  ['it', 'Italiano'],
  ['pt', 'Português'],
  ['nl', 'Nederlands'],
  ['pl', 'Polski'],
  ['ru', 'Русский'],
  ['uk', 'Українська'],
  ['tr', 'Türkçe'],
  ['ar', 'العربية'],
  ['hi', 'हिन्दी'],
  ['zh', '中文'],
  ['ja', '日本語'],
  ['ko', '한국어'],
];

function useHashRoute(): ContactsRoute | null {
  const hash = useSyncExternalStore(
    (fn) => {
      window.addEventListener('hashchange', fn);
      return () => window.removeEventListener('hashchange', fn);
    },
    () => location.hash,
  );
  return parseContactsRoute(hash);
}

export function App({ controller, contacts }: { controller: ChatController; contacts: ContactsController }) {
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const [consented, setConsented] = useState(() => safeStorage()?.getItem(CONSENT_KEY) === 'yes');
  const route = useHashRoute();

  let body;
  if (route) body = <ContactsApp contacts={contacts} route={route} />;
  else if (state.screen === 'banned') body = <BanScreen controller={controller} state={state} />;
  else if (!consented)
    body = (
      <Consent
        onAccept={() => {
          try {
            safeStorage()?.setItem(CONSENT_KEY, 'yes');
          } catch {
            /* ignore */
          }
          setConsented(true);
        }}
      />
    );
  else if (state.screen === 'chat') body = <ChatScreen controller={controller} state={state} />;
  else body = <StartScreen controller={controller} state={state} />;

  return (
    <div className="app">
      <header className="topbar">
        <span className="logo">Connect</span>
        <span className="tagline">{route ? 'your contacts' : 'talk to strangers'}</span>
        <nav className="topnav">
          {route ? (
            <a href="#/" data-testid="nav-strangers">
              Strangers
            </a>
          ) : (
            state.screen === 'start' && (
              <a href="#/contacts" data-testid="nav-contacts">
                Contacts
              </a>
            )
          )}
        </nav>
      </header>
      <UnavailableBanner />
      <CallNotice contacts={contacts} />
      {!route && state.warning && state.screen !== 'banned' && (
        <div className="warning-banner" data-testid="warning-banner" role="alert">
          <strong>Warning from a moderator:</strong> <span data-testid="warning-message">{state.warning}</span>
          <button className="link" data-testid="warning-dismiss" onClick={() => controller.dismissWarning()}>
            Dismiss
          </button>
        </div>
      )}
      {body}
      <CallLayer contacts={contacts} />
    </div>
  );
}

function Consent({ onAccept }: { onAccept: () => void }) {
  return (
    <main className="card consent">
      <h1>Before you start</h1>
      <p>
        Connect pairs you with a random stranger for a video or text chat. You must be <strong>18 or older</strong> to use
        it.
      </p>
      <ul className="rules">
        <li>No nudity, sexual content or content involving minors.</li>
        <li>No harassment, hate, threats or violence.</li>
        <li>No spam, advertising or scams.</li>
        <li>Don't share personal information you wouldn't want a stranger to have.</li>
        <li>Chats may be reported and reviewed by moderators; breaking the rules gets you banned.</li>
      </ul>
      <p className="muted">By continuing you confirm that you are 18+ and agree to these rules.</p>
      <button className="btn primary" data-testid="consent-accept" onClick={onAccept}>
        I am 18+ and agree
      </button>
    </main>
  );
}

function StartScreen({ controller, state }: { controller: ChatController; state: ChatState }) {
  const [mode, setMode] = useState<ChatMode>(state.mode);
  const [interests, setInterests] = useState('');
  const [language, setLanguage] = useState('');
  const parsed = parseInterests(interests);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void controller.start({ mode, interests: parsed, language: language || undefined });
  };

  return (
    <main className="card start">
      <h1>Talk to a stranger</h1>
      <form onSubmit={submit}>
        <fieldset className="modes">
          <legend>Chat mode</legend>
          <button
            type="button"
            className={`mode ${mode === 'video' ? 'selected' : ''}`}
            data-testid="mode-video"
            aria-pressed={mode === 'video'}
            onClick={() => setMode('video')}
          >
            <strong>Video</strong>
            <small>camera + chat</small>
          </button>
          <button
            type="button"
            className={`mode ${mode === 'text' ? 'selected' : ''}`}
            data-testid="mode-text"
            aria-pressed={mode === 'text'}
            onClick={() => setMode('text')}
          >
            <strong>Text</strong>
            <small>chat only</small>
          </button>
        </fieldset>

        <label className="field">
          <span>Interests (optional, comma-separated)</span>
          <input
            data-testid="interests-input"
            type="text"
            value={interests}
            maxLength={500}
            placeholder="music, travel, chess"
            onChange={(e) => setInterests(e.target.value)}
          />
        </label>
        {parsed.length > 0 && (
          <div className="chips" aria-label="Your interests">
            {parsed.map((i) => (
              <span className="chip" key={i}>
                {i}
              </span>
            ))}
          </div>
        )}

        <label className="field">
          <span>Language</span>
          <select data-testid="language-select" value={language} onChange={(e) => setLanguage(e.target.value)}>
            {LANGUAGES.map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </select>
        </label>

        {state.notice && <p className="notice">{state.notice}</p>}

        <button className="btn primary big" type="submit" data-testid="start-button">
          Start
        </button>
        <p className="muted small">
          {mode === 'video'
            ? 'Your browser will ask for camera and microphone access.'
            : 'Text only — your camera is never used.'}
        </p>
      </form>
    </main>
  );
}

function Video({
  stream,
  muted,
  testId,
  className,
  videoRef,
}: {
  stream: MediaStream | null;
  muted?: boolean;
  testId: string;
  className: string;
  videoRef?: RefObject<HTMLVideoElement | null>;
}) {
  const ownRef = useRef<HTMLVideoElement>(null);
  const ref = videoRef ?? ownRef;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (muted) {
      el.muted = true;
      el.setAttribute('muted', '');
    }
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) el.play().catch(() => undefined);
  }, [stream, muted]);
  return <video ref={ref} className={className} data-testid={testId} muted={muted} autoPlay playsInline />;
}

function ChatScreen({ controller, state }: { controller: ChatController; state: ChatState }) {
  const [showReport, setShowReport] = useState(false);
  const remoteRef = useRef<HTMLVideoElement>(null);
  const video = state.mode === 'video';
  const inSession = state.phase === 'matched';
  const nextLabel = state.phase === 'ended' || state.phase === 'offline' ? 'New stranger' : 'Next';

  return (
    <main className={`chat ${video ? 'video-mode' : 'text-mode'}`}>
      {video && (
        <section className="stage">
          <Video stream={state.remoteStream} testId="remote-video" className="remote" videoRef={remoteRef} />
          {!state.remoteStream && <div className="stage-placeholder">{statusText(state)}</div>}
          <Video stream={state.localStream} muted testId="local-video" className={`local ${state.camOn ? '' : 'off'}`} />
        </section>
      )}

      <section className="side">
        <div className="statusbar">
          <span className={`dot ${state.phase}`} aria-hidden />
          <span data-testid="status" role="status" aria-live="polite">
            {statusText(state)}
          </span>
        </div>
        {state.commonInterests.length > 0 && inSession && (
          <div className="common" data-testid="common-interests">
            You both like:{' '}
            {state.commonInterests.map((i) => (
              <span className="chip" key={i}>
                {i}
              </span>
            ))}
          </div>
        )}
        {state.mediaError && <p className="notice warn">{state.mediaError}</p>}
        {state.captcha && <CaptchaPanel controller={controller} state={state} />}
        {state.notice && (
          <p className="notice" data-testid="notice" onClick={() => controller.dismissNotice()}>
            {state.notice}
          </p>
        )}

        <ChatPanel controller={controller} state={state} />

        <div className="controls">
          {video && (
            <>
              <button
                className={`btn ${state.micOn ? '' : 'off'}`}
                data-testid="mute-button"
                aria-pressed={!state.micOn}
                disabled={!state.localStream}
                onClick={() => controller.toggleMic()}
              >
                {state.micOn ? 'Mute' : 'Unmute'}
              </button>
              <button
                className={`btn ${state.camOn ? '' : 'off'}`}
                data-testid="camera-button"
                aria-pressed={!state.camOn}
                disabled={!state.localStream}
                onClick={() => controller.toggleCamera()}
              >
                {state.camOn ? 'Camera off' : 'Camera on'}
              </button>
            </>
          )}
          <button className="btn primary" data-testid="next-button" onClick={() => controller.next()} disabled={state.phase === 'connecting'}>
            {nextLabel}
          </button>
          {controller.canAvoid() && (
            <button
              className="btn"
              data-testid="next-avoid-button"
              title={t('strangers.avoid.nextLabel')}
              onClick={() => controller.next({ avoid: true })}
            >
              {t('strangers.avoid.next')}
            </button>
          )}
          <button className="btn" data-testid="end-button" onClick={() => controller.end()}>
            End
          </button>
          <button
            className="btn danger"
            data-testid="report-button"
            disabled={!state.reportableSessionId}
            onClick={() => setShowReport((v) => !v)}
          >
            Report
          </button>
        </div>
        {showReport && (
          <ReportForm controller={controller} video={video} remoteRef={remoteRef} onClose={() => setShowReport(false)} />
        )}
      </section>
    </main>
  );
}

function ChatPanel({ controller, state }: { controller: ChatController; state: ChatState }) {
  const [text, setText] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  const inSession = state.phase === 'matched';

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [state.lines.length, state.strangerTyping]);

  const send = () => {
    if (controller.sendMessage(text)) setText('');
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <div className="chatpanel">
      <div className="chat-log" data-testid="chat-log" ref={logRef} aria-live="polite">
        {state.lines.map((l) =>
          l.who === 'system' ? (
            <div key={l.id} className="line system" data-testid="chat-system">
              {l.text}
            </div>
          ) : (
            <div key={l.id} className={`line ${l.who}`} data-testid="chat-line">
              <strong>{l.who === 'you' ? 'You' : 'Stranger'}:</strong> {l.text}
            </div>
          ),
        )}
      </div>
      <div className="typing" data-testid="typing-indicator" hidden={!state.strangerTyping || !inSession}>
        {state.strangerTyping && inSession ? 'Stranger is typing…' : ''}
      </div>
      <div className="composer">
        <input
          data-testid="chat-input"
          type="text"
          value={text}
          maxLength={MAX_MESSAGE_CHARS}
          placeholder={inSession ? 'Type a message…' : 'Waiting for a stranger…'}
          disabled={!inSession}
          onChange={(e) => {
            setText(e.target.value);
            controller.inputChanged(e.target.value);
          }}
          onKeyDown={onKey}
          autoComplete="off"
        />
        <button className="btn primary" data-testid="chat-send" disabled={!inSession || !text.trim()} onClick={send}>
          Send
        </button>
      </div>
    </div>
  );
}

function CaptchaPanel({ controller, state }: { controller: ChatController; state: ChatState }) {
  const c = state.captcha!;
  return (
    <div className="captcha-panel" data-testid="captcha-panel" role="status">
      <strong>Quick check</strong>
      {c.status === 'error' ? (
        <>
          <p className="notice warn" data-testid="captcha-error">
            {c.error}
          </p>
          <button className="btn" data-testid="captcha-retry" onClick={() => controller.retryCaptcha()}>
            Try again
          </button>
        </>
      ) : (
        <p className="captcha-progress" data-testid="captcha-progress">
          <span className="spinner" aria-hidden /> Verifying you are human…
        </p>
      )}
    </div>
  );
}

function ReportForm({
  controller,
  video,
  remoteRef,
  onClose,
}: {
  controller: ChatController;
  video: boolean;
  remoteRef: RefObject<HTMLVideoElement | null>;
  onClose: () => void;
}) {
  const [reason, setReason] = useState<ReportReason>('harassment');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [attach, setAttach] = useState(true);
  const [avoid, setAvoid] = useState(true);
  // The frame on screen when the report form was opened (the stranger may be gone by submit time).
  const [frame] = useState<string | null>(() => (video ? captureFrame(remoteRef.current) : null));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const evidence = video && attach ? (frame ?? captureFrame(remoteRef.current)) : null;
      await controller.report(reason, comment, evidence, avoid);
      setDone(true);
    } catch (err) {
      setError((err as Error).message || 'Could not send the report');
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div className="report done" data-testid="report-done">
        Thanks — your report was sent to the moderators.{' '}
        <button className="link" onClick={onClose}>
          Close
        </button>
      </div>
    );

  return (
    <form className="report" onSubmit={submit}>
      <label className="field">
        <span>Reason</span>
        <select data-testid="report-reason" value={reason} onChange={(e) => setReason(e.target.value as ReportReason)}>
          {REPORT_REASONS.map((r) => (
            <option key={r} value={r}>
              {r[0]!.toUpperCase() + r.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Comment (optional)</span>
        <textarea data-testid="report-comment" rows={2} maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      {video && (
        <label className="check">
          <input type="checkbox" data-testid="report-evidence" checked={attach} onChange={(e) => setAttach(e.target.checked)} />
          <span>Attach a snapshot of the stranger's video</span>
        </label>
      )}
      <label className="check">
        <input type="checkbox" data-testid="report-avoid" checked={avoid} onChange={(e) => setAvoid(e.target.checked)} />
        <span>{t('strangers.avoid.report')}</span>
      </label>
      {error && (
        <p className="notice warn" data-testid="report-error">
          {error}
        </p>
      )}
      <div className="row">
        <button className="btn danger" type="submit" data-testid="report-submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send report'}
        </button>
        <button className="btn" type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function formatUntil(until: unknown): string {
  if (until === null || until === undefined || until === '') return 'permanently';
  const d = typeof until === 'number' ? new Date(until) : new Date(String(until));
  if (Number.isNaN(d.getTime())) return `until ${String(until)}`;
  return `until ${d.toLocaleString()}`;
}

function BanScreen({ controller, state }: { controller: ChatController; state: ChatState }) {
  const ban = state.ban;
  const appeal = ban?.appeal ?? null;
  const [text, setText] = useState('');
  const { status, error } = state.appeal;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void controller.submitAppeal(text);
  };

  let appealNode = null;
  if (status === 'done')
    appealNode = (
      <p className="notice" data-testid="appeal-done">
        Your appeal was sent. A moderator will review it.
      </p>
    );
  else if (status === 'already')
    appealNode = (
      <p className="notice" data-testid="appeal-error">
        {error}
      </p>
    );
  else if (appeal?.token)
    appealNode = (
      <form className="appeal-form" onSubmit={submit}>
        <label className="field">
          <span>Think this is a mistake? Tell the moderators why:</span>
          <textarea
            data-testid="appeal-text"
            rows={4}
            maxLength={2000}
            value={text}
            onChange={(e) => setText(e.target.value)}
            disabled={status === 'sending'}
          />
        </label>
        {error && (
          <p className="notice warn" data-testid="appeal-error">
            {error}
          </p>
        )}
        <button className="btn primary" type="submit" data-testid="appeal-submit" disabled={status === 'sending' || !text.trim()}>
          {status === 'sending' ? 'Sending…' : 'Send appeal'}
        </button>
      </form>
    );

  return (
    <main className="card ban" data-testid="ban-screen">
      <h1>You have been banned</h1>
      <p>
        You can't use Connect <strong data-testid="ban-until">{formatUntil(ban?.until)}</strong>.
      </p>
      {ban?.reason && (
        <p>
          Reason: <strong data-testid="ban-reason">{ban.reason}</strong>
        </p>
      )}
      {appealNode}
      {appeal?.banId && <p className="muted small">Ban reference: {appeal.banId}</p>}
    </main>
  );
}
