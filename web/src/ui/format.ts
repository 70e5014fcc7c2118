/** Numbers, durations, dates and country names in the visitor's locale (Intl). */
import { getLocale } from '../i18n';

export function formatNumber(n: number, locale = getLocale()): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** 75 000 ms → "1:15"; an hour or more → "1:02:03" (digits in the locale's numbering). */
export function formatDuration(ms: number, locale = getLocale()): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = new Intl.NumberFormat(locale, { minimumIntegerDigits: 2, useGrouping: false });
  const one = new Intl.NumberFormat(locale, { useGrouping: false });
  return h > 0 ? `${one.format(h)}:${two.format(m)}:${two.format(s)}` : `${one.format(m)}:${two.format(s)}`;
}

export function formatDateTime(d: Date, locale = getLocale()): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** "DE" → "Germany" (in the visitor's language); unknown codes stay as they are. */
export function countryName(code: string, locale = getLocale()): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** "de" → "Deutsch"-style names of match languages, in the visitor's language. */
export function languageName(code: string, locale = getLocale()): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
