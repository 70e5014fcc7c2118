/**
 * The UI's string catalogue: every user-facing sentence is looked up here by key,
 * so a translation is one more entry in `catalogue`, not a hunt through components.
 *
 * `t(key, vars)` fills `{name}` placeholders; an unknown locale falls back to English.
 */

const en = {
  'unavailable.retrying': 'Connect is temporarily unavailable — retrying in {seconds} s…',
  'unavailable.failed': 'Connect is temporarily unavailable. Please try again in a moment.',
  'unavailable.reconnecting': 'Connect is temporarily unavailable — reconnecting in {seconds} s…',
} as const;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

export const catalogue: Record<string, Partial<Catalogue>> = { en };

let locale = 'en';

/** Switch the UI language (e.g. from navigator.language); unknown ones keep English. */
export function setLocale(next: string): void {
  const base = next.toLowerCase().split('-')[0] ?? 'en';
  locale = catalogue[next] ? next : catalogue[base] ? base : 'en';
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = catalogue[locale]?.[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}
