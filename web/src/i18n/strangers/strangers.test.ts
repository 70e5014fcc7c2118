/** Every string the strangers app shows is translated into every shipped language, placeholders kept. */
import { describe, expect, it } from 'vitest';
import { en } from '../en';
import { strangersEn } from './en';
import { strangersTranslations } from './index';
import { LOCALES, getLocale, setLocale, t } from '../index';

const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();

describe('strangers catalogue', () => {
  it('every shipped language has its strangers file', () => {
    const codes = LOCALES.map((l) => l.code).filter((c) => c !== 'en');
    expect(Object.keys(strangersTranslations).sort()).toEqual(codes.sort());
  });

  it.each(Object.keys(strangersTranslations))('%s translates every strangers key with the same placeholders', (lng) => {
    const cat = strangersTranslations[lng]!;
    const keys = Object.keys(strangersEn) as Array<keyof typeof strangersEn>;
    expect(keys.filter((k) => !cat[k])).toEqual([]);
    for (const k of keys) expect([k, placeholders(cat[k]!)]).toEqual([k, placeholders(strangersEn[k])]);
    expect(Object.keys(cat).filter((k) => !(k in strangersEn))).toEqual([]);
  });

  it('is part of the English catalogue, and the merged catalogue answers in the active language', () => {
    expect(Object.keys(strangersEn).every((k) => k in en)).toBe(true);
    const before = getLocale();
    try {
      setLocale('fr');
      expect(t('status.looking')).toBe(strangersTranslations.fr!['status.looking']);
      setLocale('ar');
      expect(t('ban.title')).toBe(strangersTranslations.ar!['ban.title']);
    } finally {
      setLocale(before);
    }
  });
});
