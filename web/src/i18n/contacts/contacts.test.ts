/** Every string the contacts app shows is translated into every shipped language, placeholders kept. */
import { describe, expect, it } from 'vitest';
import { en } from '../en';
import { contactsEn } from './en';
import { contactsTranslations } from './index';
import { getLocale, LOCALES, setLocale, t } from '../index';

const appKeys = Object.keys(contactsEn) as Array<keyof typeof contactsEn>;
const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();

describe('contacts catalogue', () => {
  it('every shipped language has its contacts file', () => {
    const codes = LOCALES.map((l) => l.code).filter((c) => c !== 'en');
    expect(Object.keys(contactsTranslations).sort()).toEqual(codes.sort());
  });

  it.each(Object.keys(contactsTranslations))('%s translates every contacts key with the same placeholders', (lng) => {
    const cat = contactsTranslations[lng]!;
    expect(appKeys.filter((k) => !cat[k])).toEqual([]);
    for (const k of appKeys) expect([k, placeholders(cat[k]!)]).toEqual([k, placeholders(contactsEn[k])]);
  });

  it('is the only home of the contacts keys (the shared catalogue holds none)', async () => {
    const mains = await Promise.all([import('../de'), import('../fr'), import('../es'), import('../pt-BR'), import('../ar')]);
    for (const m of mains) {
      const main = Object.values(m)[0] as Record<string, string>;
      expect(Object.keys(main).filter((k) => /^(contacts|account|messenger)\./.test(k))).toEqual([]);
    }
    const shared = Object.keys(en).filter((k) => /^(contacts|account|messenger)\./.test(k) && !(k in contactsEn));
    expect(shared).toEqual([]);
  });

  it('has no key of its own that English lacks', () => {
    for (const cat of Object.values(contactsTranslations)) {
      expect(Object.keys(cat).filter((k) => !(k in en))).toEqual([]);
    }
    expect(Object.keys(contactsEn).every((k) => k in en)).toBe(true);
  });

  it('the merged catalogue answers in the active language', () => {
    const before = getLocale();
    try {
      setLocale('de');
      expect(t('messenger.settings')).toBe('Einstellungen');
      expect(t('messenger.err.blocked')).toMatch(/keine Nachrichten/);
      setLocale('ar');
      expect(t('messenger.conversations')).toBe('المحادثات');
    } finally {
      setLocale(before);
    }
  });
});
