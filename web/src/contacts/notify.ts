/**
 * Attention while the tab is in the background: the unread count in the
 * document title, browser notifications (Notification API) for new messages
 * and incoming calls, a ringtone (Web Audio oscillator, no asset) and muted
 * conversations (kept on this device: the server has no mute setting).
 *
 * The decisions are pure functions (tested); `Notifier` does the side effects
 * and records every notification it shows in `window.__connectNotifications`
 * so the browser test can observe real notifications without stubbing them.
 */
import type { Channel } from './model';

export const MUTED_KEY = 'connect.mutedChannels';

/** Unread messages over the conversations that are not muted. */
export function totalUnread(channels: readonly Pick<Channel, 'id' | 'unreadCount'>[], muted: readonly string[]): number {
  const m = new Set(muted);
  return channels.reduce((n, c) => n + (m.has(c.id) ? 0 : Math.max(0, c.unreadCount | 0)), 0);
}

/** "(3) Connect" while there is something unread, the plain title otherwise. */
export function unreadTitle(base: string, unread: number): string {
  const clean = base.replace(/^\(\d+\+?\)\s*/, '');
  if (unread <= 0) return clean;
  return `(${unread > 99 ? '99+' : unread}) ${clean}`;
}

export interface NotifyInput {
  kind: 'message' | 'call';
  /** document.visibilityState === 'hidden' (or the window has no focus). */
  hidden: boolean;
  permission: NotificationPermission | 'unsupported';
  muted: boolean;
  fromMe: boolean;
  /** The conversation is open and visible: the user sees it already. */
  reading: boolean;
}

/** Whether a browser notification is due. Calls ring through a mute; messages do not. */
export function shouldNotify(i: NotifyInput): boolean {
  if (i.permission !== 'granted' || i.fromMe || !i.hidden) return false;
  if (i.kind === 'message') return !i.muted && !i.reading;
  return true;
}

export function loadMuted(store: Pick<Storage, 'getItem'> | null): string[] {
  try {
    const v = JSON.parse(store?.getItem(MUTED_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 1000) : [];
  } catch {
    return [];
  }
}

export function toggleMuted(muted: readonly string[], channelId: string): string[] {
  return muted.includes(channelId) ? muted.filter((x) => x !== channelId) : [...muted, channelId];
}

export function saveMuted(store: Pick<Storage, 'setItem'> | null, muted: readonly string[]): void {
  try {
    store?.setItem(MUTED_KEY, JSON.stringify(muted));
  } catch {
    /* private mode: the mute lasts for this page only */
  }
}

export interface ShownNotification {
  tag: string;
  title: string;
  body: string;
  at: number;
}

declare global {
  interface Window {
    __connectNotifications?: ShownNotification[];
  }
}

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Side effects: show notifications, ring. One per controller. */
export class Notifier {
  private ctx: AudioContext | null = null;
  private ring: { osc: OscillatorNode; gain: GainNode; timer: ReturnType<typeof setInterval> } | null = null;
  private shown = new Map<string, Notification>();

  /** Ask once, at a moment the user chose (first sent message, settings button). */
  async ask(): Promise<NotificationPermission | 'unsupported'> {
    if (typeof Notification === 'undefined') return 'unsupported';
    if (Notification.permission !== 'default') return Notification.permission;
    try {
      return await Notification.requestPermission();
    } catch {
      return Notification.permission;
    }
  }

  show(tag: string, title: string, body: string, onClick?: () => void): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag });
      n.onclick = () => {
        window.focus();
        onClick?.();
        n.close();
      };
      this.shown.set(tag, n);
      const log = (window.__connectNotifications ??= []);
      log.push({ tag, title, body, at: Date.now() });
      if (log.length > 50) log.shift();
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }

  close(tag: string): void {
    this.shown.get(tag)?.close();
    this.shown.delete(tag);
  }

  /** A two-tone ring repeating every 2 s until stopRing(); silent where Web Audio is missing. */
  startRing(): void {
    if (this.ring) return;
    try {
      const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
      if (!Ctx) return;
      this.ctx ??= new Ctx();
      const ctx = this.ctx;
      void ctx.resume().catch(() => undefined);
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = 440;
      gain.gain.value = 0;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      const burst = () => {
        const t = ctx.currentTime;
        gain.gain.cancelScheduledValues(t);
        gain.gain.setValueAtTime(0.08, t);
        osc.frequency.setValueAtTime(440, t);
        osc.frequency.setValueAtTime(480, t + 0.4);
        gain.gain.setValueAtTime(0, t + 0.8);
      };
      burst();
      this.ring = { osc, gain, timer: setInterval(burst, 2000) };
    } catch {
      this.ring = null;
    }
  }

  get ringing(): boolean {
    return this.ring !== null;
  }

  stopRing(): void {
    const r = this.ring;
    this.ring = null;
    if (!r) return;
    clearInterval(r.timer);
    try {
      r.gain.gain.value = 0;
      r.osc.stop();
      r.osc.disconnect();
    } catch {
      /* already stopped */
    }
  }
}

/**
 * The favicon with a red dot and the count while something is unread (the
 * original icons come back at 0). Drawn on a canvas: no asset needed.
 */
export function setFaviconBadge(unread: number): void {
  if (typeof document === 'undefined') return;
  const id = 'connect-unread-icon';
  const existing = document.getElementById(id) as HTMLLinkElement | null;
  const originals = [...document.querySelectorAll<HTMLLinkElement>('link[rel="icon"]:not(#' + id + ')')];
  if (unread <= 0) {
    existing?.remove();
    originals.forEach((l) => (l.disabled = false));
    return;
  }
  let canvas: HTMLCanvasElement;
  let ctx: CanvasRenderingContext2D | null = null;
  try {
    canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    ctx = canvas.getContext('2d');
  } catch {
    return;
  }
  if (!ctx) return;
  ctx.fillStyle = '#1f2937';
  ctx.beginPath();
  ctx.arc(16, 16, 15, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#e11d48';
  ctx.beginPath();
  ctx.arc(22, 10, 10, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#fff';
  ctx.font = 'bold 14px sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(unread > 9 ? '9+' : String(unread), 22, 11);
  const link = existing ?? Object.assign(document.createElement('link'), { id, rel: 'icon', type: 'image/png' });
  link.href = canvas.toDataURL('image/png');
  if (!existing) document.head.appendChild(link);
}
