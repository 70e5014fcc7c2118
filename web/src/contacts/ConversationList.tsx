/** The left column: people search, the conversation list (presence, ticks, unread, mute) and call history. */
import { useEffect, useRef, useState } from 'react';
import type { UserOut } from '../protocol';
import type { ContactsController } from './callMedia';
import type { CallRecord, Channel, ContactsState } from './model';
import { Avatar, channelHash, formatDuration, presenceText } from './common';
import { Ticks } from './MessageItem';
import { shortDateTime, summaryDetails, summaryQuality } from './format';
import { BellOff } from 'lucide-react';
import { t } from '../i18n';

export function SearchPanel({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
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
        aria-label={t('messenger.searchPeople')}
        placeholder={t('messenger.searchPeople')}
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
            <li className="muted small empty">{t('messenger.nobodyFound')}</li>
          )}
        </ul>
      )}
    </div>
  );
}

function preview(c: Channel, meId: string | undefined): string {
  const m = c.lastMessage;
  if (!m) return t('messenger.noMessages');
  const who = m.senderId === meId ? t('messenger.youPrefix') : '';
  if (m.deletedAt) return who + t('messenger.deleted');
  if (m.text) return who + m.text;
  if (m.attachment) return `${who}${t('messenger.attachmentIcon')}: ${m.attachment.filename}`;
  return who;
}

export function ChannelList({ contacts, s, activeId }: { contacts: ContactsController; s: ContactsState; activeId: string | null }) {
  return (
    <div className="channels">
      <h2>{t('messenger.conversations')}</h2>
      {s.channelsLoaded && s.channels.length === 0 && <p className="muted small">{t('messenger.noConversations')}</p>}
      <ul>
        {s.channels.map((c) => {
          const p = s.presence[c.peer.id];
          const muted = s.muted.includes(c.id);
          const last = c.lastMessage;
          return (
            <li key={c.id}>
              <a
                className={`channel-row ${c.id === activeId ? 'active' : ''}`}
                data-testid="channel-row"
                data-channel-id={c.id}
                data-online={p?.online ? 'true' : 'false'}
                href={channelHash(c.id)}
              >
                <Avatar c={contacts} user={c.peer} online={p?.online} />
                <span className="channel-text">
                  <strong className="channel-peer">
                    {c.peer.displayName}
                    {p?.online && <span className="sr-only"> ({t('messenger.online')})</span>}
                  </strong>
                  <span className="channel-last muted" dir="auto">
                    {last && last.senderId === s.me?.id && !last.deletedAt && <Ticks m={{ ...last, status: 'sent' }} />}
                    {preview(c, s.me?.id)}
                  </span>
                </span>
                {muted && (
                  <span className="muted small" title={t('messenger.muted')} aria-label={t('messenger.muted')}>
                    <BellOff size={14} aria-hidden />
                  </span>
                )}
                {c.unreadCount > 0 && (
                  <span className={`badge ${muted ? 'muted-badge' : ''}`} data-testid="unread-count">
                    {c.unreadCount}
                  </span>
                )}
                {!p?.online && p?.lastSeenAt && <span className="sr-only">{presenceText(p)}</span>}
              </a>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

const STATUS_KEY = {
  ringing: 'messenger.call.ringing',
  accepted: 'messenger.call.accepted',
  rejected: 'messenger.call.rejected',
  cancelled: 'messenger.call.cancelled',
  missed: 'messenger.call.missed',
  ended: 'messenger.call.ended',
  busy: 'messenger.call.busy',
} as const;

export function CallHistory({ contacts, s }: { contacts: ContactsController; s: ContactsState }) {
  if (!s.history.length) return null;
  const me = s.me?.id;
  return (
    <div className="history">
      <h2>{t('messenger.calls')}</h2>
      <ul>
        {s.history.map((h: CallRecord) => {
          const outgoing = h.caller.id === me;
          const other = outgoing ? h.callee : h.caller;
          const status = STATUS_KEY[h.status] ? t(STATUS_KEY[h.status]) : h.status;
          const quality = summaryQuality(h.quality, h.media === 'video');
          return (
            <li key={h.callId} className="call-row" data-testid="call-row" data-call-id={h.callId} data-status={h.status}>
              <Avatar c={contacts} user={other} size={28} />
              <span className="call-row-text">
                <strong>{other.displayName}</strong>
                <span className="muted small" data-testid="call-row-status">
                  <span className="call-dir" data-testid="call-row-direction" aria-hidden="true">
                    {outgoing ? '↗' : '↙'}
                  </span>{' '}
                  {outgoing ? t('messenger.outgoing') : t('messenger.incoming')} ·{' '}
                  {h.media === 'audio' ? t('messenger.audioCall') : t('messenger.videoCall')} · {status}
                  {h.endReason === 'offline' ? ` (${t('messenger.offline')})` : ''}
                  {h.durationS !== null ? ` · ${formatDuration(h.durationS)}` : ''}
                </span>
                {h.quality && quality && (
                  <span className={`muted small call-row-quality ${quality}`} data-testid="call-row-quality" data-quality={quality}>
                    {t('messenger.callQuality', { quality: t(`quality.${quality}`), details: summaryDetails(h.quality) })}
                  </span>
                )}
              </span>
              <time className="muted small" dateTime={h.createdAt}>
                {shortDateTime(h.createdAt)}
              </time>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
