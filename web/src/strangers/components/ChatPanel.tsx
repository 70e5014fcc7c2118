import { useEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { SendHorizontal } from 'lucide-react';
import { MAX_MESSAGE_CHARS, type ChatController, type ChatState } from '../controller';
import { useT } from '../../i18n';
import { Button } from '../../ui/Button';

/** The transcript, the stranger's typing indicator and the composer. */
export function ChatPanel({
  controller,
  state,
  inputRef,
}: {
  controller: ChatController;
  state: ChatState;
  inputRef: RefObject<HTMLInputElement | null>;
}) {
  const t = useT();
  const [text, setText] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  const inSession = state.phase === 'matched';

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [state.lines.length, state.strangerTyping]);
  // A new session starts with an empty composer.
  useEffect(() => setText(''), [state.sessionId]);

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
      <div className="chat-log" data-testid="chat-log" ref={logRef} role="log" aria-live="polite" aria-label={t('chat.log')} tabIndex={0}>
        {state.lines.map((l) =>
          l.who === 'system' ? (
            <div key={l.id} className="line system" data-testid="chat-system">
              {l.text}
            </div>
          ) : (
            <div key={l.id} className={`line ${l.who}`} data-testid="chat-line">
              <strong>{l.who === 'you' ? t('chat.you') : t('chat.stranger')}:</strong> <bdi>{l.text}</bdi>
            </div>
          ),
        )}
      </div>
      <div className="typing" data-testid="typing-indicator" hidden={!state.strangerTyping || !inSession}>
        {state.strangerTyping && inSession ? t('chat.typing') : ''}
      </div>
      <div className="composer">
        <input
          ref={inputRef}
          data-testid="chat-input"
          type="text"
          value={text}
          maxLength={MAX_MESSAGE_CHARS}
          aria-label={t('chat.placeholder')}
          placeholder={inSession ? t('chat.placeholder') : t('chat.placeholderWaiting')}
          disabled={!inSession}
          dir="auto"
          onChange={(e) => {
            setText(e.target.value);
            controller.inputChanged(e.target.value);
          }}
          onKeyDown={onKey}
          autoComplete="off"
        />
        <Button icon={SendHorizontal} variant="primary" compact data-testid="chat-send" disabled={!inSession || !text.trim()} onClick={send}>
          {t('chat.send')}
        </Button>
      </div>
    </div>
  );
}
