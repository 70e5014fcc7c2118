/**
 * The contacts app's translations by language code, merged into each
 * language's catalogue by ../index.ts; a missing key falls back to English.
 * They cover the keys of ./en.ts.
 */
import type { contactsEn } from './en';
import { contactsDe } from './de';
import { contactsFr } from './fr';
import { contactsEs } from './es';
import { contactsPtBR } from './pt-BR';
import { contactsAr } from './ar';

export type ContactsKey = keyof typeof contactsEn;
export type ContactsCatalogue = Partial<Record<ContactsKey, string>>;

export const contactsTranslations: Record<string, ContactsCatalogue> = {
  de: contactsDe,
  fr: contactsFr,
  es: contactsEs,
  'pt-BR': contactsPtBR,
  ar: contactsAr,
};
