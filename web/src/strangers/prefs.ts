/**
 * What the visitor chose, remembered across sessions and reloads (localStorage,
 * one JSON object): mode, interests, language, country preference, auto-requeue.
 * Devices are remembered by media/devices.ts. Anything unreadable is dropped
 * field by field, so a bad value can never break the start screen.
 */
import type { ChatMode } from '../protocol';
import { parseInterests } from '../lib/interests';

export type CountryChoice = 'any' | 'mine' | 'list';

export interface StrangerPrefs {
  mode: ChatMode;
  interests: string;
  language: string;
  country: CountryChoice;
  /** ISO 3166-1 alpha-2 codes for "these countries". */
  countries: string[];
  hideCountry: boolean;
  autoRequeue: boolean;
}

export const PREFS_KEY = 'connect.strangers.prefs';
export const MAX_COUNTRIES = 20;

export function defaultPrefs(): StrangerPrefs {
  return { mode: 'video', interests: '', language: '', country: 'any', countries: [], hideCountry: false, autoRequeue: true };
}

/** "de, AT ,xx1, ch" → ["DE", "AT", "CH"]: two letters, upper case, unique, at most 20. */
export function parseCountries(input: string | readonly unknown[]): string[] {
  const parts = typeof input === 'string' ? input.split(/[\s,;]+/) : input;
  const out: string[] = [];
  for (const p of parts) {
    if (typeof p !== 'string') continue;
    const c = p.trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(c) || out.includes(c)) continue;
    out.push(c);
    if (out.length >= MAX_COUNTRIES) break;
  }
  return out;
}

/** The join-queue fields for a country choice (contract: countries / country "mine" / hideCountry). */
export function countryCriteria(p: Pick<StrangerPrefs, 'country' | 'countries' | 'hideCountry'>): {
  country?: 'any' | 'mine';
  countries?: string[];
  hideCountry?: boolean;
} {
  const out: { country?: 'any' | 'mine'; countries?: string[]; hideCountry?: boolean } = {};
  if (p.country === 'mine') out.country = 'mine';
  if (p.country === 'list') {
    const list = parseCountries(p.countries);
    if (list.length) out.countries = list;
  }
  if (p.hideCountry) out.hideCountry = true;
  return out;
}

export function sanitizePrefs(raw: unknown): StrangerPrefs {
  const d = defaultPrefs();
  if (!raw || typeof raw !== 'object') return d;
  const r = raw as Record<string, unknown>;
  return {
    mode: r.mode === 'text' || r.mode === 'video' ? r.mode : d.mode,
    interests: typeof r.interests === 'string' ? parseInterests(r.interests.slice(0, 500)).join(', ') : d.interests,
    language: typeof r.language === 'string' && /^[a-z]{2,3}$/.test(r.language) ? r.language : d.language,
    country: r.country === 'mine' || r.country === 'list' || r.country === 'any' ? r.country : d.country,
    countries: Array.isArray(r.countries) ? parseCountries(r.countries) : d.countries,
    hideCountry: typeof r.hideCountry === 'boolean' ? r.hideCountry : d.hideCountry,
    autoRequeue: typeof r.autoRequeue === 'boolean' ? r.autoRequeue : d.autoRequeue,
  };
}

export function loadPrefs(store: Pick<Storage, 'getItem'> | null = safeLocalStorage()): StrangerPrefs {
  try {
    const raw = store?.getItem(PREFS_KEY);
    return sanitizePrefs(raw ? JSON.parse(raw) : null);
  } catch {
    return defaultPrefs();
  }
}

export function savePrefs(p: Partial<StrangerPrefs>, store: Pick<Storage, 'getItem' | 'setItem'> | null = safeLocalStorage()): StrangerPrefs {
  const next = sanitizePrefs({ ...loadPrefs(store), ...p });
  try {
    store?.setItem(PREFS_KEY, JSON.stringify(next));
  } catch {
    /* quota or private mode: the choice lasts this page only */
  }
  return next;
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
