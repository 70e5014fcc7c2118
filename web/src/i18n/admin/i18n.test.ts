import { describe, expect, it } from 'vitest';
import { adminEn } from './en';
import { adminTranslations } from './index';

describe('admin translations', () => {
  it('every shipped language translates every dashboard string, placeholders intact', () => {
    const keys = Object.keys(adminEn) as Array<keyof typeof adminEn>;
    expect(Object.keys(adminTranslations).sort()).toEqual(['ar', 'de', 'es', 'fr', 'pt-BR']);
    for (const [lng, cat] of Object.entries(adminTranslations)) {
      expect([lng, keys.filter((k) => !cat[k])]).toEqual([lng, []]);
      expect([lng, Object.keys(cat).filter((k) => !(k in adminEn))]).toEqual([lng, []]);
      for (const k of keys) {
        const want = (adminEn[k].match(/\{\w+\}/g) ?? []).sort();
        expect([lng, k, (cat[k]!.match(/\{\w+\}/g) ?? []).sort()]).toEqual([lng, k, want]);
      }
    }
  });
});
