import { describe, expect, it } from 'vitest';
import de from 'emojibase-data/de/data.json';
import deMessages from 'emojibase-data/de/messages.json';
import { emojiLocale, normaliseEmoji, resolveEmojiData, toEmojiData } from './emojiData';

const messages = {
  groups: [
    { key: 'smileys-emotion', message: 'smileys & emotion', order: 0 },
    { key: 'people-body', message: 'people & body', order: 1 },
    { key: 'component', message: 'component', order: 2 },
    { key: 'flags', message: 'flags', order: 9 },
  ],
  subgroups: [{ key: 'country-flag', message: 'country flags', order: 98 }],
  skinTones: [
    { key: 'light', message: 'light skin tone' },
    { key: 'dark', message: 'dark skin tone' },
  ],
};

describe('toEmojiData', () => {
  const data = toEmojiData(
    'en',
    [
      { emoji: '😀', label: 'grinning face', group: 0, subgroup: 1, version: 1, tags: ['face', 'grin'] },
      {
        emoji: '👋',
        label: 'waving hand',
        group: 1,
        subgroup: 16,
        version: 0.6,
        skins: [
          { emoji: '👋🏻', tone: 1 },
          { emoji: '👋🏿', tone: 5 },
        ],
      },
      { emoji: '🤝🏻‍🫲🏿', label: 'mixed', group: 1, subgroup: 16, version: 14, skins: [{ emoji: '🫱🏻‍🫲🏿', tone: [1, 5] }] },
      { emoji: '🏻', label: 'light skin tone', group: 2, version: 1 },
      { emoji: '🇦', label: 'regional indicator A', version: 0 },
      { emoji: '🇩🇪', label: 'flag: Germany', group: 9, subgroup: 98, version: 2 },
    ],
    messages,
  );

  it('keeps pickable emoji only: no components, no lone regional indicators', () => {
    expect(data.emojis.map((e) => e.emoji)).toEqual(['😀', '👋', '🤝🏻‍🫲🏿', '🇩🇪']);
    expect(data.categories).toEqual([
      { index: 0, label: 'Smileys & emotion' },
      { index: 1, label: 'People & body' },
      { index: 9, label: 'Flags' },
    ]);
  });

  it('maps numbered skin tones to keys, two-tone variants to aliases, and marks country flags', () => {
    const wave = data.emojis[1]!;
    expect(wave.skins).toEqual({ light: '👋🏻', dark: '👋🏿' });
    expect(wave.label).toBe('Waving hand');
    expect(data.emojis[2]!.aliases).toEqual(['🫱🏻‍🫲🏿']);
    expect(data.emojis[3]!.countryFlag).toBe(true);
    expect(data.emojis[0]!.countryFlag).toBeUndefined();
    expect(data.skinTones).toEqual({ light: 'Light skin tone', dark: 'Dark skin tone' });
  });

  it('refuses data that is not emojibase', () => {
    expect(() => toEmojiData('en', { nope: 1 }, messages)).toThrow();
  });

  it('reads the real German emojibase data (labels and categories in German)', () => {
    const real = toEmojiData('de', de, deMessages);
    expect(real.emojis.length).toBeGreaterThan(1800);
    expect(real.categories.map((c) => c.label)).toContain('Tiere & Natur');
    expect(real.emojis.find((e) => e.emoji === '👍')?.label).toMatch(/Daumen/);
    expect(real.emojis.find((e) => e.emoji === '👍')?.skins?.dark).toBe('👍🏿');
  });
});

describe('normaliseEmoji', () => {
  it('drops a variation selector only where the emoji needs none (fully-qualified form)', () => {
    expect(normaliseEmoji('👍\uFE0F')).toBe('👍');
    expect(normaliseEmoji('❤\uFE0F')).toBe('❤\uFE0F');
    expect(normaliseEmoji('#\uFE0F\u20E3')).toBe('#\uFE0F\u20E3');
    expect(normaliseEmoji('🏳\uFE0F\u200D🌈')).toBe('🏳\uFE0F\u200D🌈');
    expect(normaliseEmoji('👍🏽')).toBe('👍🏽');
  });
});

describe('emojiLocale', () => {
  it('maps UI locales to emojibase data (Arabic falls back to English)', () => {
    expect(emojiLocale('de')).toBe('de');
    expect(emojiLocale('pt-BR')).toBe('pt');
    expect(emojiLocale('ar')).toBe('en');
    expect(emojiLocale('fr')).toBe('fr');
    expect(emojiLocale('xx')).toBe('en');
  });

  it('loads one language once (the lazily imported chunk)', async () => {
    const a = resolveEmojiData('es');
    expect(resolveEmojiData('es-MX')).toBe(a);
    expect((await a).locale).toBe('es');
  });
});

describe('slimEmojibase (the build-time cut of data.json)', () => {
  it('keeps what the picker reads and drops components and lone regional indicators', async () => {
    const { isEmojibaseData, slimEmojibase } = await import('./slim');
    const slim = slimEmojibase([
      { emoji: '👋', label: 'waving hand', hexcode: '1F44B', text: '', type: 1, order: 188, group: 1, subgroup: 16, version: 0.6, tags: ['hi'], skins: [{ emoji: '👋🏻', label: 'x', hexcode: 'y', tone: 1, order: 1 }] },
      { emoji: '🏻', label: 'light skin tone', group: 2, version: 1 },
      { emoji: '🇦', label: 'regional indicator A', version: 0 },
    ]);
    expect(slim).toEqual([{ emoji: '👋', label: 'waving hand', group: 1, subgroup: 16, version: 0.6, tags: ['hi'], skins: [{ emoji: '👋🏻', tone: 1 }] }]);
    expect(isEmojibaseData('/x/node_modules/emojibase-data/pt/data.json')).toBe(true);
    expect(isEmojibaseData('/x/node_modules/emojibase-data/pt/messages.json')).toBe(false);
    expect(() => slimEmojibase({})).toThrow();
  });
});
