/**
 * The i18n catalogue's lookup: `t('contacts.block')`, `t('contacts.blockedNotice', { name })`.
 * One language (English) ships today; a missing key shows the key itself, so a
 * forgotten string is visible rather than blank.
 */
import { en, type MessageKey } from './en';

export type { MessageKey };

const catalogues: Record<string, Partial<Record<MessageKey, string>>> = { en };

let locale = 'en';

export function setLocale(next: string): void {
  locale = catalogues[next] ? next : 'en';
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = catalogues[locale]?.[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
