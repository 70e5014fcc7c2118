import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent } from 'react';
import type { UserOut } from '../protocol';
import { CALL_END_TEXT, callStatusText, isCallActive } from '../lib/callState';
import {
  MAX_TEXT_CHARS,
  REACTION_EMOJI,
  REPORT_REASONS,
  type CallRecord,
  type Channel,
  type ContactsController,
  type ContactsState,
  type ReportReason,
} from '../lib/contacts';
import { errText } from '../lib/contacts';
import { hasReacted, type UiMessage } from '../lib/messages';
import { MIN_PASSWORD, resetTokenOf } from '../lib/auth';
import { ChangePassword, ForgotPassword, ResetPasswordScreen } from './Account';
import { t } from '../i18n';

export type ContactsRoute = { name: 'contacts'; channelId: string | null; resetToken?: string };

/** `#/contacts`, `#/contacts/c/<channelId>` and `#/contacts/reset/<token>` (the mailed link); null otherwise. */
export function parseContactsRoute(hash: string): ContactsRoute | null {
  const resetToken = resetTokenOf(hash);
  if (resetToken) return { name: 'contacts', channelId: null, resetToken };
  const h = hash.replace(/^#/, '');
  if (h === '/contacts' || h === '/contacts/') return { name: 'contacts', channelId: null };
  const m = /^\/contacts\/c\/([A-Za-z0-9_-]+)\/?$/.exec(h);
  if (m) return { name: 'contacts', channelId: m[1]! };
  return null;
}

export const channelHash = (id: string) => `#/contacts/c/${id}`;

export function useContacts(c: ContactsController): ContactsState {
  return useSyncExternalStore(c.subscribe, c.getState);
}

/** Object URL of a protected resource (null while loading or on error). */
function useBlobUrl(c: ContactsController, url: string | null | undefined): string | null {
  const [state, setState] = useState<{ url: string; blob: string } | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    c.blobUrl(url)
      .then((blob) => live && setState({ url, blob }))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [c, url]);
  return url && state?.url === url ? state.blob : null;
}

function Avatar({ c, user, size = 36 }: { c: ContactsController; user: { displayName: string; avatarUrl?: string | null } | null; size?: number }) {
  const src = useBlobUrl(c, user?.avatarUrl ?? null);
  const initials = (user?.displayName ?? '?')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
  return (
    <span className="avatar" style={{ width: size, height: size, fontSize: size * 0.4 }} aria-hidden>
      {src ? <img src={src} alt="" /> : initials || '?'}
    </span>
  );
}

export function ContactsApp({ contacts, route }: { contacts: ContactsController; route: ContactsRoute }) {
  const s = useContacts(contacts);
  const channelId = route.channelId;

  useEffect(() => {
    contacts.openChannel(s.auth === 'loggedIn' ? channelId : null);
  }, [contacts, channelId, s.auth]);
  useEffect(() => () => contacts.openChannel(null), [contacts]);

  if (route.resetToken) return <ResetPasswordScreen contacts={contacts} token={route.resetToken} />;
  if (s.auth === 'checking')
    return (
      <main className="card">
        <p className="muted">Loading…</p>
      </main>
    );
  if (s.auth === 'error')
    return (
      <main className="card">
        <p className="notice warn" data-testid="auth-error">
          {s.authError}
        </p>
        <button className="btn" onClick={() => contacts.retrySession()}>
          Try again
        </button>
      </main>
    );
  if (s.auth === 'loggedOut') return <AuthScreen contacts={contacts} s={s} />;

  return (
    <main className={`contacts ${channelId ? 'has-conversation' : ''}`}>
      <aside className="contacts-side">
        <ProfilePanel contacts={contacts} s={s} />
        {s.error && (
          <p className="notice warn" data-testid="contacts-error" onClick={() => contacts.dismissError()}>
            {s.error}
          </p>
        )}
        <SearchPanel contacts={contacts} s={s} />
        <ChannelList contacts={contacts} s={s} activeId={channelId} />
        <CallHistory contacts={contacts} s={s} />
      </aside>
      <section className="contacts-main">
        {channelId ? (
          <Conversation contacts={contacts} s={s} channelId={channelId} />
        ) : (
          <div className="contacts-empty muted">Pick a conversation or search for someone to talk to.</div>
        )}
      </section>
    </main>
  );
}

// ------------------------------------------------------------ auth

function AuthScreen({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  const [mode, setMode] = useState<'login' | 'signup' | 'forgot'>('login');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  if (mode === 'forgot') return <ForgotPassword auth={contacts.auth} initialEmail={email} onBack={() => setMode('login')} />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (mode === 'login') void contacts.login(email, password);
    else void contacts.signup(email, password, name);
  };

  return (
    <main className="card auth">
      <h1>{mode === 'login' ? t('account.login.title') : t('account.signup.title')}</h1>
      <p className="muted small">{t('account.tagline')}</p>
      <form onSubmit={submit}>
        {mode === 'signup' && (
          <label className="field">
            <span>{t('account.displayName')}</span>
            <input
              data-testid="signup-name"
              value={name}
              maxLength={64}
              required
              autoComplete="nickname"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
        )}
        <label className="field">
          <span>{t('account.email')}</span>
          <input
            data-testid={mode === 'login' ? 'login-email' : 'signup-email'}
            type="email"
            value={email}
            required
            autoComplete="email"
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{mode === 'signup' ? t('account.passwordNew') : t('account.password')}</span>
          <input
            data-testid={mode === 'login' ? 'login-password' : 'signup-password'}
            type="password"
            value={password}
            required
            minLength={mode === 'signup' ? MIN_PASSWORD : undefined}
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {s.authError && (
          <p className="notice warn" data-testid="auth-error" role="alert">
            {s.authError}
          </p>
        )}
        <button
          className="btn primary big"
          type="submit"
          data-testid={mode === 'login' ? 'login-submit' : 'signup-submit'}
          disabled={s.authBusy}
        >
          {s.authBusy ? t('account.wait') : mode === 'login' ? t('account.login.submit') : t('account.signup.submit')}
        </button>
      </form>
      <p className="small">
        {mode === 'login' ? (
          <>
            <button className="link" type="button" data-testid="show-forgot" onClick={() => setMode('forgot')}>
              {t('account.forgot.link')}
            </button>
            {' · '}
            {t('account.newHere')}{' '}
            <button className="link" type="button" data-testid="show-signup" onClick={() => setMode('signup')}>
              {t('account.createAccount')}
            </button>
          </>
        ) : (
          <>
            {t('account.haveAccount')}{' '}
            <button className="link" type="button" data-testid="show-login" onClick={() => setMode('login')}>
              {t('account.logIn')}
            </button>
          </>
        )}
      </p>
    </main>
  );
}

function ProfilePanel({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  const me = s.me!;
  const [name, setName] = useState(me.displayName);
  useEffect(() => setName(me.displayName), [me.displayName]);
  const save = (e: FormEvent) => {
    e.preventDefault();
    void contacts.saveProfile(name);
  };
  return (
    <div className="profile">
      <div className="profile-head">
        <Avatar c={contacts} user={{ displayName: me.displayName, avatarUrl: s.myAvatarUrl }} size={44} />
        <div className="profile-who">
          <strong data-testid="me-name">{me.displayName}</strong>
          <span className="muted small">{me.email}</span>
        </div>
        <span className={`gw-dot ${s.gateway}`} title={s.gateway === 'ready' ? 'Online' : 'Connecting…'} />
        <button className="btn small-btn" data-testid="logout-button" onClick={() => void contacts.logout()}>
          Log out
        </button>
      </div>
      <form className="profile-edit" onSubmit={save}>
        <input
          data-testid="profile-name"
          aria-label="Display name"
          value={name}
          maxLength={64}
          onChange={(e) => setName(e.target.value)}
        />
        <button className="btn small-btn" type="submit" data-testid="profile-save" disabled={!name.trim()}>
          Save
        </button>
        <label className="btn small-btn file-btn">
          Avatar
          <input
            data-testid="avatar-input"
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void contacts.uploadAvatar(f);
              e.target.value = '';
            }}
          />
        </label>
      </form>
      {s.profileNotice && (
        <p className="muted small" data-testid="profile-notice">
          {s.profileNotice}
        </p>
      )}
      <BlockedList contacts={contacts} s={s} />
      <ChangePassword contacts={contacts} />
    </div>
  );
}

/** Settings: the people you blocked, each with Unblock. */
function BlockedList({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  return (
    <details className="blocked-list" data-testid="blocked-list">
      <summary data-testid="blocked-list-toggle">{t('contacts.blockedListToggle', { count: s.blocks.length })}</summary>
      {s.blocks.length === 0 ? (
        <p className="muted small" data-testid="blocked-empty">
          {t('contacts.blockedListEmpty')}
        </p>
      ) : (
        <ul aria-label={t('contacts.blockedList')}>
          {s.blocks.map((b) => (
            <li key={b.user.id} className="blocked-row" data-testid="blocked-row" data-user-id={b.user.id}>
              <Avatar c={contacts} user={b.user} size={24} />
              <span className="blocked-name">{b.user.displayName}</span>
              <button className="btn small-btn" data-testid="blocked-unblock" onClick={() => void contacts.unblock(b.user.id)}>
                {t('contacts.unblock')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

// ------------------------------------------------------------ list

function SearchPanel({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [q, setQ] = useState(s.searchQuery);
  const run = (v: string, delay: number) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void contacts.search(v), delay);
  };
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  const open = async (u: UserOut) => {
    const id = await contacts.openChatWith(u.id);
    if (id) {
      setQ('');
      void contacts.search('');
      location.hash = channelHash(id);
    }
  };
  return (
    <div className="search">
      <input
        data-testid="contact-search"
        type="search"
        placeholder="Search people by name…"
        value={q}
        maxLength={254}
        onChange={(e) => {
          setQ(e.target.value);
          run(e.target.value, 250);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') run(q, 0);
        }}
      />
      {q.trim() && (
        <ul className="results">
          {s.searchResults.map((u) => (
            <li key={u.id}>
              <button className="result" data-testid="contact-result" data-user-id={u.id} onClick={() => void open(u)}>
                <Avatar c={contacts} user={u} size={32} />
                <span>{u.displayName}</span>
              </button>
            </li>
          ))}
          {!s.searching && s.searchQuery.trim() === q.trim() && s.searchResults.length === 0 && (
            <li className="muted small empty">Nobody found.</li>
          )}
        </ul>
      )}
    </div>
  );
}

function preview(c: Channel, meId: string | undefined): string {
  const m = c.lastMessage;
  if (!m) return 'No messages yet';
  const who = m.senderId === meId ? 'You: ' : '';
  if (m.text) return who + m.text;
  if (m.attachment) return `${who}📎 ${m.attachment.filename}`;
  return who;
}

function ChannelList({ contacts, s, activeId }: { contacts: ContactsController; s: ContactsState; activeId: string | null }) {
  return (
    <div className="channels">
      <h2>Conversations</h2>
      {s.channelsLoaded && s.channels.length === 0 && <p className="muted small">No conversations yet — search for someone above.</p>}
      <ul>
        {s.channels.map((c) => (
          <li key={c.id}>
            <a
              className={`channel-row ${c.id === activeId ? 'active' : ''}`}
              data-testid="channel-row"
              data-channel-id={c.id}
              href={channelHash(c.id)}
            >
              <Avatar c={contacts} user={c.peer} />
              <span className="channel-text">
                <strong className="channel-peer">{c.peer.displayName}</strong>
                <span className="channel-last muted">{preview(c, s.me?.id)}</span>
              </span>
              {c.unreadCount > 0 && (
                <span className="badge" data-testid="unread-count">
                  {c.unreadCount}
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

function formatDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '';
  const s = Math.round(sec);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const STATUS_TEXT: Record<CallRecord['status'], string> = {
  ringing: 'Ringing',
  accepted: 'In progress',
  rejected: 'Declined',
  cancelled: 'Cancelled',
  missed: 'Missed',
  ended: 'Ended',
  busy: 'Busy',
};

function CallHistory({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  if (!s.history.length) return null;
  const me = s.me?.id;
  return (
    <div className="history">
      <h2>Calls</h2>
      <ul>
        {s.history.map((h) => {
          const outgoing = h.caller.id === me;
          const other = outgoing ? h.callee : h.caller;
          return (
            <li key={h.callId} className="call-row" data-testid="call-row" data-call-id={h.callId} data-status={h.status}>
              <Avatar c={contacts} user={other} size={28} />
              <span className="call-row-text">
                <strong>{other.displayName}</strong>
                <span className="muted small">
                  {outgoing ? '↗ Outgoing' : '↙ Incoming'} {h.media} call · {STATUS_TEXT[h.status] ?? h.status}
                  {h.durationS !== null ? ` · ${formatDuration(h.durationS)}` : ''}
                </span>
              </span>
              <time className="muted small">{new Date(h.createdAt).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}</time>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

// ------------------------------------------------------------ conversation

function Conversation({ contacts, s, channelId }: { contacts: ContactsController; s: ContactsState; channelId: string }) {
  const ch = s.channels.find((c) => c.id === channelId) ?? null;
  const messages = s.messages[channelId] ?? [];
  const [text, setText] = useState('');
  const listRef = useRef<HTMLDivElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const typingUser = s.typing[channelId];
  const callBusy = isCallActive(s.call);
  const blocked = !!ch?.blocked;
  const [confirmBlock, setConfirmBlock] = useState(false);
  const [reporting, setReporting] = useState<{ messageId?: string } | null>(null);
  const [safetyNotice, setSafetyNotice] = useState<string | null>(null);
  useEffect(() => {
    setConfirmBlock(false);
    setReporting(null);
    setSafetyNotice(null);
  }, [channelId]);
  const doBlock = async () => {
    if (!ch) return;
    setConfirmBlock(false);
    // The blocked banner says it; a second notice would repeat it.
    if (await contacts.block(ch.peer)) setSafetyNotice(null);
  };
  const doUnblock = async () => {
    if (!ch) return;
    if (await contacts.unblock(ch.peer.id)) setSafetyNotice(t('contacts.unblockedNotice', { name: ch.peer.displayName }));
  };

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, channelId, typingUser]);

  const send = () => {
    if (contacts.sendText(channelId, text)) setText('');
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <div className="conversation" data-testid="conversation" data-channel-id={channelId}>
      <header className="conv-head">
        <a className="back" href="#/contacts" aria-label="Back to conversations">
          ←
        </a>
        <Avatar c={contacts} user={ch?.peer ?? null} />
        <strong className="conv-peer" data-testid="conversation-peer">
          {ch?.peer.displayName ?? ''}
        </strong>
        <span className="conv-actions">
          <button
            className="btn small-btn"
            data-testid="call-audio-button"
            disabled={!ch || callBusy || blocked}
            onClick={() => ch && void contacts.placeCall(ch.peer, 'audio')}
            title="Audio call"
          >
            📞 Audio
          </button>
          <button
            className="btn small-btn"
            data-testid="call-video-button"
            disabled={!ch || callBusy || blocked}
            onClick={() => ch && void contacts.placeCall(ch.peer, 'video')}
            title="Video call"
          >
            🎥 Video
          </button>
          {blocked ? (
            <button className="btn small-btn" data-testid="unblock-button" disabled={!ch} onClick={() => void doUnblock()}>
              {t('contacts.unblock')}
            </button>
          ) : (
            <button
              className="btn small-btn"
              data-testid="block-button"
              disabled={!ch}
              aria-expanded={confirmBlock}
              onClick={() => setConfirmBlock((v) => !v)}
            >
              {t('contacts.block')}
            </button>
          )}
          <button
            className="btn small-btn danger"
            data-testid="report-user-button"
            disabled={!ch}
            aria-expanded={!!reporting && !reporting.messageId}
            title={ch ? t('contacts.reportUser', { name: ch.peer.displayName }) : undefined}
            onClick={() => setReporting((r) => (r && !r.messageId ? null : {}))}
          >
            {t('contacts.report')}
          </button>
        </span>
      </header>
      {confirmBlock && ch && (
        <div className="safety-panel" role="alertdialog" aria-label={t('contacts.block')} data-testid="block-confirm">
          <p>{t('contacts.blockConfirm', { name: ch.peer.displayName })}</p>
          <div className="row">
            <button className="btn danger" data-testid="block-confirm-button" autoFocus onClick={() => void doBlock()}>
              {t('contacts.block')}
            </button>
            <button className="btn" onClick={() => setConfirmBlock(false)}>
              {t('contacts.reportCancel')}
            </button>
          </div>
        </div>
      )}
      {reporting && ch && (
        <ReportForm
          contacts={contacts}
          channel={ch}
          messageId={reporting.messageId}
          onClose={() => setReporting(null)}
          onBlocked={() => setSafetyNotice(null)}
        />
      )}
      {safetyNotice && (
        <p className="notice small safety-notice" role="status" data-testid="safety-notice" onClick={() => setSafetyNotice(null)}>
          {safetyNotice}
        </p>
      )}
      {blocked && ch && (
        <p className="notice warn small safety-banner" data-testid="blocked-banner">
          {t('contacts.blockedBanner', { name: ch.peer.displayName })}
        </p>
      )}
      <div className="message-list" data-testid="message-list" ref={listRef} aria-live="polite">
        {s.loadingChannel === channelId && messages.length === 0 && <p className="muted small center">Loading…</p>}
        {messages.map((m) => (
          <MessageView
            key={m.id}
            contacts={contacts}
            m={m}
            meId={s.me?.id ?? ''}
            onReport={(messageId) => setReporting({ messageId })}
            reportingThis={reporting?.messageId === m.id}
          />
        ))}
      </div>
      <div className="typing" data-testid="channel-typing-indicator" hidden={!typingUser}>
        {typingUser ? `${ch?.peer.displayName ?? 'Someone'} is typing…` : ''}
      </div>
      <div className="composer">
        <label className={`btn small-btn file-btn ${s.uploading ? 'busy' : ''}`} title="Attach a file">
          {s.uploading ? '…' : '📎'}
          <input
            ref={fileRef}
            data-testid="attach-input"
            type="file"
            accept="image/*,application/pdf,text/plain"
            disabled={s.uploading}
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void contacts.sendFile(channelId, f);
              e.target.value = '';
            }}
          />
        </label>
        <input
          data-testid="message-input"
          type="text"
          value={text}
          maxLength={MAX_TEXT_CHARS}
          placeholder="Type a message…"
          autoComplete="off"
          disabled={blocked}
          onChange={(e) => {
            setText(e.target.value);
            contacts.inputChanged(channelId, e.target.value);
          }}
          onKeyDown={onKey}
        />
        <button className="btn primary" data-testid="message-send" disabled={!text.trim() || blocked} onClick={send}>
          Send
        </button>
      </div>
    </div>
  );
}

function MessageView({
  contacts,
  m,
  meId,
  onReport,
  reportingThis,
}: {
  contacts: ContactsController;
  m: UiMessage;
  meId: string;
  onReport: (messageId: string) => void;
  reportingThis: boolean;
}) {
  const mine = m.senderId === meId;
  const reacted = hasReacted(m, REACTION_EMOJI, meId);
  const time = new Date(m.createdAt);
  return (
    <div className={`message ${mine ? 'mine' : 'theirs'} ${m.status}`} data-testid="message" data-message-id={m.id} data-mine={mine ? 'true' : 'false'}>
      <div className="bubble">
        {m.attachment && <Attachment contacts={contacts} a={m.attachment} />}
        {m.text && (
          <div className="message-text" data-testid="message-text">
            {m.text}
          </div>
        )}
        <div className="meta">
          <span className="muted">{Number.isNaN(time.getTime()) ? '' : time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</span>
          {mine && m.status === 'sending' && <span className="muted"> · Sending…</span>}
          {mine && m.status === 'sent' && m.deliveredAt && <span className="muted"> · Delivered</span>}
          {m.status === 'failed' && (
            <span className="failed">
              {' '}
              · {m.error ?? 'Not sent'}{' '}
              <button className="link" data-testid="message-retry" onClick={() => contacts.retry(m.clientId)}>
                Retry
              </button>
            </span>
          )}
        </div>
      </div>
      <div className="reactions-row">
        <span className="message-reactions" data-testid="message-reactions">
          {m.reactions.map((r) => (
            <span key={r.emoji} className="reaction" title={`${r.userIds.length}`}>
              {r.emoji} {r.userIds.length}
            </span>
          ))}
        </span>
        {m.status === 'sent' && (
          <button
            className={`react ${reacted ? 'on' : ''}`}
            data-testid="react-button"
            aria-pressed={reacted}
            aria-label={reacted ? 'Remove 👍' : 'React 👍'}
            onClick={() => void contacts.toggleReaction(m.id, REACTION_EMOJI)}
          >
            👍
          </button>
        )}
        {!mine && m.status === 'sent' && (
          <button
            className="react report-message"
            data-testid="report-message-button"
            aria-label={t('contacts.reportMessage')}
            aria-expanded={reportingThis}
            title={t('contacts.reportMessage')}
            onClick={() => onReport(m.id)}
          >
            ⚑ <span className="report-message-label">{t('contacts.reportMessageShort')}</span>
          </button>
        )}
      </div>
    </div>
  );
}

/** Report the other member (or one of their messages) to the moderators; optionally block too. */
function ReportForm({
  contacts,
  channel,
  messageId,
  onClose,
  onBlocked,
}: {
  contacts: ContactsController;
  channel: Channel;
  messageId?: string;
  onClose: () => void;
  onBlocked: () => void;
}) {
  const [reason, setReason] = useState<ReportReason>('harassment');
  const [comment, setComment] = useState('');
  const [alsoBlock, setAlsoBlock] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const name = channel.peer.displayName;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await contacts.report({ channelId: channel.id, messageId, reason, comment });
      setDone(true);
      if (alsoBlock && !channel.blocked && (await contacts.block(channel.peer))) onBlocked();
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <div className="report done safety-panel" role="status" data-testid="report-done">
        {t('contacts.reportDone')}{' '}
        <button className="link" onClick={onClose}>
          {t('contacts.close')}
        </button>
      </div>
    );
  return (
    <form className="report safety-panel" data-testid="report-form" data-message-id={messageId ?? ''} onSubmit={(e) => void submit(e)}>
      <strong>{messageId ? t('contacts.reportTitleMessage', { name }) : t('contacts.reportTitleUser', { name })}</strong>
      <label className="field">
        <span>{t('contacts.reportReason')}</span>
        <select data-testid="report-reason" value={reason} autoFocus onChange={(e) => setReason(e.target.value as ReportReason)}>
          {REPORT_REASONS.map((r) => (
            <option key={r} value={r}>
              {t(`contacts.reason.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('contacts.reportComment')}</span>
        <textarea data-testid="report-comment" rows={2} maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      {!channel.blocked && (
        <label className="check">
          <input type="checkbox" data-testid="report-also-block" checked={alsoBlock} onChange={(e) => setAlsoBlock(e.target.checked)} />
          <span>{t('contacts.reportAlsoBlock', { name })}</span>
        </label>
      )}
      {error && (
        <p className="notice warn" role="alert" data-testid="report-error">
          {error}
        </p>
      )}
      <div className="row">
        <button className="btn danger" type="submit" data-testid="report-submit" disabled={busy}>
          {busy ? t('contacts.reportSending') : t('contacts.reportSend')}
        </button>
        <button className="btn" type="button" onClick={onClose}>
          {t('contacts.reportCancel')}
        </button>
      </div>
    </form>
  );
}

function Attachment({ contacts, a }: { contacts: ContactsController; a: NonNullable<UiMessage['attachment']> }) {
  const src = useBlobUrl(contacts, a.url);
  const size = a.size < 1024 ? `${a.size} B` : a.size < 1048576 ? `${Math.round(a.size / 1024)} KB` : `${(a.size / 1048576).toFixed(1)} MB`;
  if (a.contentType.startsWith('image/') && src)
    return (
      <a href={src} target="_blank" rel="noreferrer" className="attachment-image">
        <img data-testid="message-attachment" src={src} alt={a.filename} />
      </a>
    );
  return (
    <a className="attachment-file" data-testid="message-attachment" href={src ?? undefined} download={a.filename}>
      📄 {a.filename} <span className="muted small">({size})</span>
    </a>
  );
}

// ------------------------------------------------------------ calls (on every route)

function MediaView({ stream, muted, testId, className }: { stream: MediaStream | null; muted?: boolean; testId: string; className: string }) {
  const ref = useRef<HTMLVideoElement>(null);
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

export function CallLayer({ contacts }: { contacts: ContactsController }) {
  const s = useContacts(contacts);
  const c = s.call;
  if (s.auth !== 'loggedIn') return null;

  if (c.phase === 'incoming')
    return (
      <div className="incoming-call" data-testid="incoming-call" role="alertdialog" aria-label="Incoming call">
        <Avatar c={contacts} user={c.peer} size={56} />
        <div className="incoming-text">
          <strong data-testid="incoming-caller">{c.peer?.displayName}</strong>
          <span data-testid="incoming-media">{c.media === 'audio' ? 'Audio call' : 'Video call'}</span>
        </div>
        <div className="row">
          <button className="btn danger" data-testid="call-reject" onClick={() => contacts.reject()}>
            Decline
          </button>
          <button className="btn primary" data-testid="call-accept" onClick={() => void contacts.answer()}>
            Accept
          </button>
        </div>
      </div>
    );

  if (isCallActive(c)) {
    const ringing = c.phase === 'placing' || c.phase === 'outgoing';
    const video = c.media === 'video';
    return (
      <div className={`call-screen ${video ? 'video' : 'audio'}`} data-testid="call-screen" data-call-id={c.callId ?? ''}>
        <div className="call-stage">
          <MediaView stream={s.remoteStream} testId="call-remote-video" className="call-remote" />
          {(!video || !s.remoteStream) && (
            <div className="call-placeholder">
              <Avatar c={contacts} user={c.peer} size={96} />
              <strong>{c.peer?.displayName}</strong>
            </div>
          )}
          <MediaView stream={s.localStream} muted testId="call-local-video" className={`call-local ${s.camOn && video ? '' : 'off'}`} />
        </div>
        <div className="call-bar">
          <span className="call-status" data-testid="call-status" role="status" aria-live="polite">
            {callStatusText(c)}
          </span>
          {s.mediaError && <span className="call-media-error small">{s.mediaError}</span>}
          {ringing && (
            <div className="call-ringing" data-testid="call-ringing">
              Calling {c.peer?.displayName}…
              <button className="btn danger" data-testid="call-cancel" onClick={() => contacts.hangup()}>
                Cancel
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
              {s.micOn ? 'Mute' : 'Unmute'}
            </button>
            <button
              className={`btn ${s.camOn ? '' : 'off'}`}
              data-testid="call-camera"
              aria-pressed={!s.camOn}
              disabled={!s.localStream || !video}
              onClick={() => contacts.toggleCamera()}
            >
              {s.camOn ? 'Camera off' : 'Camera on'}
            </button>
            <button className="btn hangup" data-testid="call-hangup" onClick={() => contacts.hangup()}>
              {ringing ? 'Cancel' : 'Hang up'}
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
          {CALL_END_TEXT[c.endKind]}
        </span>
        <button className="link" data-testid="call-ended-dismiss" onClick={() => contacts.dismissCall()}>
          OK
        </button>
      </div>
    );

  if (c.error)
    return (
      <div className="call-notice warn" role="alert">
        <span data-testid="call-error">{c.error}</span>
        <button className="link" onClick={() => contacts.dismissCall()}>
          OK
        </button>
      </div>
    );

  return null;
}
