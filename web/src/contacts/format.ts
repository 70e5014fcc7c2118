/**
 * Dates, times, sizes, durations and call-quality summaries of the contacts
 * app, in the active UI locale (Intl), so a German or Arabic browser reads its
 * own formats. Pure functions (the locale is a parameter with the UI's as default).
 */
import { getLocale, t } from '../i18n';
import { formatDuration as formatMs } from '../ui/format';
import { classifyQuality, type Quality } from '../strangers/quality';
import type { CallQualitySummary } from './model';

function valid(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "05/12/2026, 14:02" style (short date and time) — '' for a missing or bad date. */
export function shortDateTime(iso: string | null | undefined, locale = getLocale()): string {
  const d = valid(iso);
  return d ? new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(d) : '';
}

/** "14:02" (hour and minute) — '' for a missing or bad date. */
export function clockTime(iso: string | null | undefined, locale = getLocale()): string {
  const d = valid(iso);
  return d ? new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(d) : '';
}

/** The time on the same day, else "3 Dec" (for "last seen …"). */
export function sameDayOrDate(iso: string | null | undefined, now: number, locale = getLocale()): string {
  const d = valid(iso);
  if (!d) return '';
  if (new Date(now).toDateString() === d.toDateString()) return clockTime(iso, locale);
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(d);
}

/** A call's length in seconds as "1:05" / "1:02:03" (locale digits); '' when unknown. */
export function callDuration(sec: number | null, locale = getLocale()): string {
  if (sec === null || !Number.isFinite(sec)) return '';
  return formatMs(Math.round(Math.max(0, sec)) * 1000, locale);
}

/** 512 → "512 B", 2048 → "2 KB", 3.5 MiB → "3.5 MB" (numbers in the locale). */
export function fileSize(bytes: number, locale = getLocale()): string {
  const n = (v: number, digits: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v);
  if (bytes < 1024) return t('messenger.fileSize.b', { n: n(bytes, 0) });
  if (bytes < 1048576) return t('messenger.fileSize.kb', { n: n(Math.round(bytes / 1024), 0) });
  return t('messenger.fileSize.mb', { n: n(bytes / 1048576, 1) });
}

/** good / fair / poor for a finished call, by the same bands as the live indicator. */
export function summaryQuality(q: CallQualitySummary | null | undefined, video: boolean): Quality | null {
  if (!q || q.samples <= 0) return null;
  return classifyQuality({ rttMs: q.rttMsAvg, lossPct: q.lossPctAvg, kbps: q.bitrateKbpsAvg }, video);
}

/** "42 ms round trip · 0.5 % loss · 1,250 kbit/s" — the figures the summary has, in the locale. */
export function summaryDetails(q: CallQualitySummary, locale = getLocale()): string {
  const num = (v: number, digits: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v);
  const parts: string[] = [];
  if (q.rttMsAvg !== null) parts.push(t('messenger.callQualityRtt', { n: num(q.rttMsAvg, 0) }));
  if (q.lossPctAvg !== null) parts.push(t('messenger.callQualityLoss', { n: num(q.lossPctAvg, 1) }));
  if (q.bitrateKbpsAvg !== null) parts.push(t('messenger.callQualityKbps', { n: num(q.bitrateKbpsAvg, 0) }));
  return parts.join(' · ');
}
