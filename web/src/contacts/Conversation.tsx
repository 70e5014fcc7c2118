/** One conversation: header (presence, calls, mute, search, block, report), messages, typing, composer. */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ContactsController } from './callMedia';
import type { ContactsState } from './model';
import { isCallActive } from '../lib/callState';
import type { UiMessage } from '../lib/messages';
import { Avatar, presenceText } from './common';
import { shortDateTime } from './format';
import { Composer } from './Composer';
import { MessageView } from './MessageItem';
import { ReportForm } from './ReportForm';
import { ArrowLeft, Bell, BellOff, Phone, Search, Video } from 'lucide-react';
import { t } from '../i18n';

export function Conversation({ contacts, s, channelId }: { contacts: ContactsController; s: ContactsState; channelId: string }) {
  const ch = s.channels.find((c) => c.id === channelId) ?? null;
  const messages = s.messages[channelId] ?? [];
  const listRef = useRef<HTMLDivElement>(null);
  const typingUser = s.typing[channelId];
  const callBusy = isCallActive(s.call);
  const blocked = !!ch?.blocked;
  const muted = s.muted.includes(channelId);
  const presence = ch ? s.presence[ch.peer.id] : undefined;
  const [confirmBlock, setConfirmBlock] = useState(false);
  const [reporting, setReporting] = useState<{ messageId?: string } | null>(null);
  const [safetyNotice, setSafetyNotice] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<UiMessage | null>(null);
  const [editing, setEditing] = useState<UiMessage | null>(null);
  const [searchOpen, setSearchOpen] = useState(false);
  const [query, setQuery] = useState('');
  const meId = s.me?.id ?? '';
  const names = useMemo(() => {
    const n: Record<string, string> = {};
    if (s.me) n[s.me.id] = s.me.displayName;
    if (ch) n[ch.peer.id] = ch.peer.displayName;
    return n;
  }, [s.me, ch]);
  useEffect(() => {
    setConfirmBlock(false);
    setReporting(null);
    setSafetyNotice(null);
    setReplyTo(null);
    setEditing(null);
    setSearchOpen(false);
    setQuery('');
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

  const search = s.convSearch?.channelId === channelId ? s.convSearch : null;
  const jump = (id: string) => document.getElementById(`msg-${id}`)?.scrollIntoView({ block: 'center' });

  return (
    <div className="conversation" data-testid="conversation" data-channel-id={channelId}>
      <header className="conv-head">
        <a className="back" href="#/contacts" aria-label={t('messenger.back')}>
          <ArrowLeft size={20} aria-hidden />
        </a>
        <Avatar c={contacts} user={ch?.peer ?? null} online={presence?.online} />
        <span className="conv-who">
          <h2 className="conv-peer" data-testid="conversation-peer">
            {ch?.peer.displayName ?? ''}
          </h2>
          <span className="muted small" data-testid="conversation-presence" data-online={presence?.online ? 'true' : 'false'}>
            {presenceText(presence)}
          </span>
        </span>
        <span className="conv-actions">
          <button
            className="btn small-btn"
            data-testid="call-audio-button"
            disabled={!ch || callBusy || blocked}
            onClick={() => ch && void contacts.placeCall(ch.peer, 'audio')}
            title={t('messenger.audioCall')}
            aria-label={t('messenger.audioCall')}
          >
            <Phone size={16} aria-hidden /> <span className="label-wide">{t('messenger.audio')}</span>
          </button>
          <button
            className="btn small-btn"
            data-testid="call-video-button"
            disabled={!ch || callBusy || blocked}
            onClick={() => ch && void contacts.placeCall(ch.peer, 'video')}
            title={t('messenger.videoCall')}
            aria-label={t('messenger.videoCall')}
          >
            <Video size={16} aria-hidden /> <span className="label-wide">{t('messenger.video')}</span>
          </button>
          <button
            className="btn small-btn"
            data-testid="conversation-search-toggle"
            aria-expanded={searchOpen}
            aria-label={t('messenger.searchConversation')}
            title={t('messenger.searchConversation')}
            onClick={() => {
              setSearchOpen((v) => !v);
              contacts.closeConversationSearch();
            }}
          >
            <Search size={16} aria-hidden />
          </button>
          <button
            className="btn small-btn"
            data-testid="mute-button"
            aria-pressed={muted}
            aria-label={muted ? t('messenger.unmute') : t('messenger.mute')}
            title={muted ? t('messenger.unmute') : t('messenger.mute')}
            onClick={() => contacts.toggleMute(channelId)}
          >
            {muted ? <BellOff size={16} aria-hidden /> : <Bell size={16} aria-hidden />}
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
      {searchOpen && (
        <form
          className="conv-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            void contacts.searchConversation(channelId, query);
          }}
        >
          <input
            type="search"
            data-testid="conversation-search"
            aria-label={t('messenger.searchConversation')}
            placeholder={t('messenger.searchConversation')}
            maxLength={100}
            autoFocus
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <button className="btn small-btn" type="submit" data-testid="conversation-search-submit" disabled={!query.trim()}>
            {t('messenger.find')}
          </button>
          {search && (
            <div className="conv-search-results" data-testid="conversation-search-results">
              {search.busy && <p className="muted small">{t('messenger.loading')}</p>}
              {!search.busy && search.results.length === 0 && <p className="muted small">{t('messenger.noMatches')}</p>}
              <ul>
                {search.results.map((m) => (
                  <li key={m.id}>
                    <button type="button" className="link" data-testid="conversation-search-result" onClick={() => jump(m.id)}>
                      <span className="muted small">{shortDateTime(m.createdAt)}</span>{' '}
                      {names[m.senderId] ?? ''}: {m.text.slice(0, 120)}
                    </button>
                  </li>
                ))}
              </ul>
              {search.nextBefore !== null && !search.busy && (
                <button type="button" className="link" onClick={() => void contacts.searchConversation(channelId, query, true)}>
                  {t('messenger.older')}
                </button>
              )}
            </div>
          )}
        </form>
      )}
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
      <div className="message-list" data-testid="message-list" ref={listRef} role="log" aria-live="polite" aria-label={t('messenger.messages')}>
        {s.loadingChannel === channelId && messages.length === 0 && <p className="muted small center">{t('messenger.loading')}</p>}
        {messages.map((m) => (
          <MessageView
            key={m.id}
            contacts={contacts}
            m={m}
            meId={meId}
            names={names}
            onReport={(messageId) => setReporting({ messageId })}
            onReply={(x) => {
              setEditing(null);
              setReplyTo(x);
            }}
            onEdit={(x) => {
              setReplyTo(null);
              setEditing(x);
            }}
            reportingThis={reporting?.messageId === m.id}
            peerBlocked={blocked}
            onUnblock={() => void doUnblock()}
          />
        ))}
      </div>
      <div className="typing" data-testid="channel-typing-indicator" hidden={!typingUser}>
        {typingUser ? t('messenger.typing', { name: ch?.peer.displayName ?? t('messenger.someone') }) : ''}
      </div>
      <Composer
        contacts={contacts}
        s={s}
        channelId={channelId}
        blocked={blocked}
        replyTo={replyTo}
        editing={editing}
        names={names}
        onDone={() => {
          setReplyTo(null);
          setEditing(null);
        }}
      />
    </div>
  );
}
