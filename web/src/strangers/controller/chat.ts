/**
 * The text chat part of the strangers controller: the transcript (bounded),
 * our typing indicator (sent at most every 4 s, cleared after 3 s idle) and the
 * stranger's (expires after 8 s without news).
 */
import type { MessageEvent, TypingEvent } from '../../protocol';
import { MAX_LINES, MAX_MESSAGE_CHARS, type ChatLine } from './state';
import type { Host } from './host';

const TYPING_IDLE_MS = 3000;
const TYPING_RESEND_MS = 4000;
const STRANGER_TYPING_TIMEOUT_MS = 8000;

export class ChatPart {
  private lineId = 1;
  private typingActive = false;
  private typingSentAt = 0;
  private typingIdleTimer: ReturnType<typeof setTimeout> | null = null;
  private strangerTypingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly host: Host,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** A fresh transcript starting with one system line. */
  reset(first: string | null): void {
    this.lineId = 1;
    this.host.set({ lines: first ? [{ id: this.lineId++, who: 'system', text: first }] : [] });
  }

  addLine(who: ChatLine['who'], text: string): void {
    const lines = [...this.host.state().lines, { id: this.lineId++, who, text }];
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    this.host.set({ lines });
  }

  send(raw: string): boolean {
    const text = raw.trim().slice(0, MAX_MESSAGE_CHARS);
    if (!text || this.host.state().phase !== 'matched') return false;
    this.host.gateway.request('send-message', { text }).catch((e) => this.onError(e));
    this.addLine('you', text);
    this.stopTyping(true);
    return true;
  }

  inputChanged(text: string): void {
    if (this.host.state().phase !== 'matched') return;
    if (!text.trim()) {
      this.stopTyping(true);
      return;
    }
    const now = Date.now();
    if (!this.typingActive || now - this.typingSentAt > TYPING_RESEND_MS) {
      this.typingActive = true;
      this.typingSentAt = now;
      this.host.gateway.emit('typing', { active: true });
    }
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => this.stopTyping(true), TYPING_IDLE_MS);
  }

  stopTyping(send: boolean): void {
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = null;
    if (this.typingActive && send && this.host.state().phase === 'matched') this.host.gateway.emit('typing', { active: false });
    this.typingActive = false;
  }

  clearStrangerTyping(): void {
    if (this.strangerTypingTimer) clearTimeout(this.strangerTypingTimer);
    this.strangerTypingTimer = null;
  }

  onMessage(m: MessageEvent): void {
    if (this.host.state().phase !== 'matched' || typeof m?.text !== 'string') return;
    this.addLine('stranger', m.text);
    this.host.set({ strangerTyping: false });
  }

  onTyping(ev: TypingEvent): void {
    if (this.host.state().phase !== 'matched') return;
    this.clearStrangerTyping();
    if (ev?.active)
      this.strangerTypingTimer = setTimeout(() => this.host.set({ strangerTyping: false }), STRANGER_TYPING_TIMEOUT_MS);
    this.host.set({ strangerTyping: Boolean(ev?.active) });
  }
}
