/**
 * The i18n catalogue's lookup: `t('contacts.block')`, `t('contacts.reportUser', { name })`.
 *
 * Backed by i18next (react-i18next re-renders components on a language switch
 * through `useT()`); the catalogues stay flat TypeScript objects keyed by
 * `feature.name` (en.ts is the source, other languages may be partial: a missing
 * key falls back to English, and a key missing from English shows the key
 * itself, so a forgotten string is visible rather than blank). `{name}`
 * placeholders are filled from params; an unknown placeholder stays visible.
 */
import i18next from 'i18next';
import { initReactI18next, useTranslation } from 'react-i18next';
import { en, type MessageKey } from './en';
import { de } from './de';
import { fr } from './fr';
import { es } from './es';
import { ptBR } from './pt-BR';
import { ar } from './ar';
import { adminTranslations } from './admin';
import { contactsTranslations } from './contacts';
import { framecheckTranslations } from './framecheck';
import { strangersTranslations } from './strangers';

export type { MessageKey };
export type Catalogue = Partial<Record<MessageKey, string>>;

/** The languages the app ships, with their own names (for the switcher). */
export const LOCALES: ReadonlyArray<{ code: string; name: string; dir: 'ltr' | 'rtl' }> = [
  { code: 'en', name: 'English', dir: 'ltr' },
  { code: 'de', name: 'Deutsch', dir: 'ltr' },
  { code: 'fr', name: 'Français', dir: 'ltr' },
  { code: 'es', name: 'Español', dir: 'ltr' },
  { code: 'pt-BR', name: 'Português (Brasil)', dir: 'ltr' },
  { code: 'ar', name: 'العربية', dir: 'rtl' },
];

const catalogues: Record<string, Catalogue> = withFeatures({ en, de, fr, es, 'pt-BR': ptBR, ar }, [
  adminTranslations,
  contactsTranslations,
  framecheckTranslations,
  strangersTranslations,
]);

/** Each feature's own translation files (i18n/<feature>/) merged into the language's catalogue. */
function withFeatures(
  base: Record<string, Catalogue>,
  features: ReadonlyArray<Record<string, Catalogue>>,
): Record<string, Catalogue> {
  const out: Record<string, Catalogue> = {};
  for (const [lng, cat] of Object.entries(base)) {
    out[lng] = Object.assign({}, cat, ...features.map((f) => f[lng] ?? {}));
  }
  return out;
}
const STORAGE_KEY = 'connect.uiLanguage';

/**
 * The best shipped locale for the browser's preference list: exact tag first
 * ("pt-BR"), then the base language ("de-AT" → "de", "pt-PT" → "pt-BR"), else English.
 */
export function pickLocale(preferred: readonly string[]): string {
  const codes = LOCALES.map((l) => l.code);
  for (const raw of preferred) {
    if (!raw) continue;
    const tag = raw.trim();
    const exact = codes.find((c) => c.toLowerCase() === tag.toLowerCase());
    if (exact) return exact;
    const base = tag.split('-')[0]!.toLowerCase();
    const byBase = codes.find((c) => c.split('-')[0]!.toLowerCase() === base);
    if (byBase) return byBase;
  }
  return 'en';
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function initialLocale(): string {
  const saved = storage()?.getItem(STORAGE_KEY);
  if (saved && catalogues[saved]) return saved;
  const nav = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
  return pickLocale(nav);
}

const resources = Object.fromEntries(Object.entries(catalogues).map(([lng, cat]) => [lng, { translation: cat }]));

void i18next.use(initReactI18next).init({
  resources,
  lng: initialLocale(),
  fallbackLng: 'en',
  keySeparator: false,
  nsSeparator: false,
  returnNull: false,
  initAsync: false,
  interpolation: {
    prefix: '{',
    suffix: '}',
    escapeValue: false, // React escapes
  },
  // Leave an unknown placeholder visible: "You blocked {name}."
  missingInterpolationHandler: (_text: string, match: RegExpExecArray) => match[0],
  react: { useSuspense: false },
});

function applyDocument(lng: string): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = lng;
  document.documentElement.dir = localeDir(lng);
}

/**
 * Keep `<html lang dir>` on the active language (both the visitor app and the
 * moderation dashboard call this at start-up; Arabic turns the page right to left).
 */
export function bindDocumentLanguage(): void {
  applyDocument(i18next.language);
  i18next.on('languageChanged', applyDocument);
}

export function localeDir(lng: string): 'ltr' | 'rtl' {
  return LOCALES.find((l) => l.code === lng)?.dir ?? 'ltr';
}

/** The active UI locale (a code from LOCALES). */
export function getLocale(): string {
  return i18next.language || 'en';
}

/** Switch the UI language (remembered); unknown codes fall back to English. */
export function setLocale(next: string): void {
  const lng = catalogues[next] ? next : 'en';
  try {
    storage()?.setItem(STORAGE_KEY, lng);
  } catch {
    /* private mode */
  }
  void i18next.changeLanguage(lng);
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return i18next.t(key, { ...params, defaultValue: en[key] ?? key });
}

/** Whether the catalogue has a key (for server error codes: `errors.<code>`). */
export function hasKey(key: string): key is MessageKey {
  return key in en;
}

/** `t` for components: re-renders the component when the language changes. */
export function useT(): typeof t {
  const { i18n } = useTranslation();
  void i18n.language; // subscribe
  return t;
}

/** Subscribe to language changes outside React (returns the unsubscribe). */
export function onLocaleChange(fn: (lng: string) => void): () => void {
  i18next.on('languageChanged', fn);
  return () => i18next.off('languageChanged', fn);
}
