/**
 * Emoji data for the reaction picker (frimousse), bundled from the npm package
 * emojibase-data instead of fetched from a CDN: the app's CSP allows
 * `connect-src 'self'` only, and a chat app should not tell a third party when
 * someone opens a picker. Each language's data is its own lazily loaded chunk
 * (the main bundle does not carry it). emojibase has no Arabic, so Arabic uses
 * the English names; pt-BR uses pt.
 */
import type { EmojiData } from 'frimousse';

type SkinKey = 'light' | 'medium-light' | 'medium' | 'medium-dark' | 'dark';
const TONES: readonly SkinKey[] = ['light', 'medium-light', 'medium', 'medium-dark', 'dark'];

interface RawEmoji {
  emoji: string;
  label: string;
  group?: number;
  subgroup?: number;
  version: number;
  tags?: string[];
  skins?: Array<{ emoji: string; tone?: number | number[] }>;
}
interface RawMessages {
  groups: Array<{ key: string; message: string; order: number }>;
  subgroups: Array<{ key: string; message: string; order: number }>;
  skinTones: Array<{ key: string; message: string }>;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The fully-qualified form of an emoji (Unicode emoji-test.txt): a variation
 * selector after a character that is shown as emoji anyway is dropped, so 👍
 * from emojibase ("👍\uFE0F") and 👍 typed or from the quick row are the same
 * reaction on the server (it compares strings) and not two identical-looking chips.
 */
export function normaliseEmoji(emoji: string): string {
  return emoji.replace(/(\p{Emoji_Presentation})\uFE0F/gu, '$1');
}

/** emojibase's data.json + messages.json → frimousse's EmojiData (the shape its own loader builds). */
export function toEmojiData(locale: string, raw: unknown, rawMessages: unknown): EmojiData {
  const emojis = raw as RawEmoji[];
  const messages = rawMessages as RawMessages;
  if (!Array.isArray(emojis) || !messages || !Array.isArray(messages.groups)) throw new Error('bad emoji data');
  const flags = new Set(
    messages.subgroups.filter((g) => g.key === 'country-flag' || g.key === 'subdivision-flag').map((g) => g.order),
  );
  const skinTones = {} as Record<SkinKey, string>;
  for (const s of messages.skinTones) if ((TONES as readonly string[]).includes(s.key)) skinTones[s.key as SkinKey] = cap(s.message);
  return {
    locale,
    categories: messages.groups.filter((g) => g.key !== 'component').map((g) => ({ index: g.order, label: cap(g.message) })),
    skinTones,
    // Without a group: lone regional indicators and components (not reactions on their own).
    emojis: emojis
      .filter((e) => typeof e.group === 'number' && e.group !== 2)
      .map((e) => {
        const tones = (e.skins ?? []).filter((s) => typeof s.tone === 'number');
        const mixed = (e.skins ?? []).filter((s) => Array.isArray(s.tone)).map((s) => normaliseEmoji(s.emoji));
        const skins = tones.length
          ? (Object.fromEntries(tones.map((s) => [TONES[(s.tone as number) - 1], normaliseEmoji(s.emoji)])) as Record<SkinKey, string>)
          : undefined;
        return {
          emoji: normaliseEmoji(e.emoji),
          category: e.group!,
          version: e.version,
          label: cap(e.label),
          tags: e.tags ?? [],
          countryFlag: e.subgroup !== undefined && flags.has(e.subgroup) ? (true as const) : undefined,
          skins,
          aliases: mixed.length ? mixed : undefined,
        };
      }),
  };
}

/** The emojibase locale for a UI locale (emojibase has no Arabic). */
export function emojiLocale(uiLocale: string): 'en' | 'de' | 'fr' | 'es' | 'pt' {
  const base = uiLocale.split('-')[0]!.toLowerCase();
  return base === 'de' || base === 'fr' || base === 'es' || base === 'pt' ? base : 'en';
}

const LOADERS: Record<ReturnType<typeof emojiLocale>, () => Promise<[unknown, unknown]>> = {
  en: () => Promise.all([import('emojibase-data/en/data.json'), import('emojibase-data/en/messages.json')]).then(([d, m]) => [d.default, m.default]),
  de: () => Promise.all([import('emojibase-data/de/data.json'), import('emojibase-data/de/messages.json')]).then(([d, m]) => [d.default, m.default]),
  fr: () => Promise.all([import('emojibase-data/fr/data.json'), import('emojibase-data/fr/messages.json')]).then(([d, m]) => [d.default, m.default]),
  es: () => Promise.all([import('emojibase-data/es/data.json'), import('emojibase-data/es/messages.json')]).then(([d, m]) => [d.default, m.default]),
  pt: () => Promise.all([import('emojibase-data/pt/data.json'), import('emojibase-data/pt/messages.json')]).then(([d, m]) => [d.default, m.default]),
};

const cache = new Map<string, Promise<EmojiData>>();

/** frimousse's `resolveEmojiData`: this build's copy of emojibase, one chunk per language. */
export function resolveEmojiData(locale: string): Promise<EmojiData> {
  const key = emojiLocale(locale);
  let p = cache.get(key);
  if (!p) {
    p = LOADERS[key]().then(([d, m]) => toEmojiData(key, d, m));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
