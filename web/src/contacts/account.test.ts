import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en';
import { contactsTranslations } from '../i18n/contacts';

describe('account strings', () => {
  it('every shipped language translates every account key and keeps its placeholders', () => {
    const keys = Object.keys(en).filter((k) => k.startsWith('account.')) as Array<keyof typeof en>;
    expect(keys.length).toBeGreaterThan(30);
    for (const cat of Object.values(contactsTranslations) as Array<Partial<Record<string, string>>>) {
      expect(keys.filter((k) => !cat[k])).toEqual([]);
      for (const k of keys) {
        const want = (en[k].match(/\{\w+\}/g) ?? []).sort();
        expect([k, (cat[k]!.match(/\{\w+\}/g) ?? []).sort()]).toEqual([k, want]);
      }
    }
  });
});
