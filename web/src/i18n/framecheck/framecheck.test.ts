import { describe, expect, it } from 'vitest';
import { framecheckEn } from './en';
import { framecheckTranslations } from './index';
import { setLocale, t } from '../index';

describe('framecheck strings', () => {
  it('every shipped language translates every key, placeholders intact', () => {
    const keys = Object.keys(framecheckEn) as Array<keyof typeof framecheckEn>;
    expect(Object.keys(framecheckTranslations).sort()).toEqual(['ar', 'de', 'es', 'fr', 'pt-BR']);
    for (const cat of Object.values(framecheckTranslations)) {
      for (const k of keys) {
        expect([k, Boolean(cat[k])]).toEqual([k, true]);
        const want = (framecheckEn[k].match(/\{\w+\}/g) ?? []).sort();
        expect([k, (cat[k]!.match(/\{\w+\}/g) ?? []).sort()]).toEqual([k, want]);
      }
    }
  });

  it('are merged into the catalogue the app reads', () => {
    setLocale('de');
    expect(t('framecheck.hidden.next')).toBe('Nächste Person');
    setLocale('en');
    expect(t('framecheck.hidden.next')).toBe('Next stranger');
  });
});
