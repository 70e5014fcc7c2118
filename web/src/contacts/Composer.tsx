/** The message box: attach, type (typing indicator), reply / edit banners, send with Enter. */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { ContactsController } from './callMedia';
import { MAX_TEXT_CHARS, type ContactsState } from './model';
import type { UiMessage } from '../lib/messages';
import { Paperclip } from 'lucide-react';
import { t } from '../i18n';

export function Composer({
  contacts,
  s,
  channelId,
  blocked,
  replyTo,
  editing,
  names,
  onDone,
}: {
  contacts: ContactsController;
  s: ContactsState;
  channelId: string;
  blocked: boolean;
  replyTo: UiMessage | null;
  editing: UiMessage | null;
  names: Record<string, string>;
  onDone: () => void;
}) {
  const [text, setText] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (editing) setText(editing.text);
    if (editing || replyTo) inputRef.current?.focus();
  }, [editing, replyTo]);
  useEffect(() => setText(''), [channelId]);

  const send = async () => {
    if (editing) {
      if (await contacts.editMessage(editing.id, text)) {
        setText('');
        onDone();
      }
      return;
    }
    if (contacts.sendText(channelId, text, replyTo?.id)) {
      setText('');
      onDone();
    }
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    } else if (e.key === 'Escape' && (editing || replyTo)) {
      setText('');
      onDone();
    }
  };

  return (
    <>
      {(replyTo || editing) && (
        <div className="composer-banner" data-testid={editing ? 'editing-banner' : 'replying-banner'}>
          <span>
            <strong>{editing ? t('messenger.editing') : t('messenger.replyingTo', { name: names[replyTo!.senderId] ?? '' })}</strong>{' '}
            <span className="muted">{(editing ?? replyTo)!.text.slice(0, 120)}</span>
          </span>
          <button className="link" data-testid="composer-banner-cancel" aria-label={t('contacts.reportCancel')} onClick={() => { setText(''); onDone(); }}>
            ✕
          </button>
        </div>
      )}
      <div className="composer">
        <label className={`btn small-btn file-btn ${s.uploading ? 'busy' : ''}`} title={t('messenger.attach')}>
          {s.uploading ? '…' : <Paperclip size={16} aria-hidden />}
          <input
            data-testid="attach-input"
            type="file"
            aria-label={t('messenger.attach')}
            accept="image/*,application/pdf,text/plain"
            disabled={s.uploading || !!editing}
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void contacts.sendFile(channelId, f);
              e.target.value = '';
            }}
          />
        </label>
        <input
          ref={inputRef}
          data-testid="message-input"
          type="text"
          dir="auto"
          aria-label={t('messenger.typeMessage')}
          value={text}
          maxLength={MAX_TEXT_CHARS}
          placeholder={t('messenger.typeMessage')}
          autoComplete="off"
          disabled={blocked}
          onChange={(e) => {
            setText(e.target.value);
            if (!editing) contacts.inputChanged(channelId, e.target.value);
          }}
          onKeyDown={onKey}
        />
        <button className="btn primary" data-testid="message-send" disabled={!text.trim() || blocked} onClick={() => void send()}>
          {editing ? t('messenger.save') : t('messenger.send')}
        </button>
      </div>
    </>
  );
}
