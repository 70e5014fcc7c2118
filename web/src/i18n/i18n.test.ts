import { describe, expect, it } from 'vitest';
import { LOCALES, getLocale, pickLocale, setLocale, t } from './index';
import { en } from './en';
import { strangersTranslations } from './strangers';

describe('t', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(t('contacts.reportUser', { name: 'Bob' })).toBe('Report Bob');
    expect(t('contacts.reportUser')).toBe('Report {name}');
  });
});

describe('locales', () => {
  it('preselects the browser language: exact tag, then base language, else English', () => {
    expect(pickLocale(['de-AT', 'en'])).toBe('de');
    expect(pickLocale(['pt-PT'])).toBe('pt-BR');
    expect(pickLocale(['pt-br'])).toBe('pt-BR');
    expect(pickLocale(['ar-EG'])).toBe('ar');
    expect(pickLocale(['xx', 'fr-CA'])).toBe('fr');
    expect(pickLocale(['ja'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('switches language, falls back to English for a missing key, and back', () => {
    setLocale('de');
    expect(getLocale()).toBe('de');
    expect(t('start.submit')).toBe('Starten');
    setLocale('ar');
    expect(t('start.submit')).not.toBe(en['start.submit']);
    setLocale('klingon');
    expect(getLocale()).toBe('en');
    expect(t('start.submit')).toBe('Start');
  });

  it('every shipped language translates every strangers key', async () => {
    const mods = await Promise.all([import('./de'), import('./fr'), import('./es'), import('./pt-BR'), import('./ar')]);
    // The language's main file (shared keys) with its strangers file (strangers/<lang>.ts), as index.ts merges them.
    const cats = mods.map((m, i) => ({
      ...(Object.values(m)[0] as Record<string, string>),
      ...(strangersTranslations[['de', 'fr', 'es', 'pt-BR', 'ar'][i]!] as Record<string, string>),
    }));
    const strangersKeys = Object.keys(en).filter((k) => /^(app|consent|start|devices|media|status|end|offline|wait|chat|call|quality|reactions|shortcuts|report|captcha|ban|errors|strangers)\./.test(k));
    expect(LOCALES).toHaveLength(6);
    for (const cat of cats) {
      const missing = strangersKeys.filter((k) => !cat[k]);
      expect(missing).toEqual([]);
      // Placeholders survive translation.
      for (const k of strangersKeys) {
        const want = ((en as Record<string, string>)[k]!.match(/\{\w+\}/g) ?? []).sort();
        expect([k, (cat[k]!.match(/\{\w+\}/g) ?? []).sort()]).toEqual([k, want]);
      }
    }
  });
});
