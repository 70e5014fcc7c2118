/**
 * The contacts app's translations by language code, merged into each
 * language's catalogue by ../index.ts; a missing key falls back to English.
 * They cover the contacts keys of ./en.ts and the older `contacts.*`,
 * `account.*` and `messenger.*` keys that stay in ../en.ts.
 */
import type { MessageKey } from '../en';
import type { contactsEn } from './en';
import { contactsDe } from './de';
import { contactsFr } from './fr';
import { contactsEs } from './es';
import { contactsPtBR } from './pt-BR';
import { contactsAr } from './ar';

export type ContactsKey = keyof typeof contactsEn;
/** Every key the contacts app shows (its own file's and the older ones in ../en.ts). */
export type ContactsAppKey = ContactsKey | Extract<MessageKey, `contacts.${string}` | `account.${string}` | `messenger.${string}`>;
export type ContactsCatalogue = Partial<Record<ContactsAppKey, string>>;

export const contactsTranslations: Record<string, ContactsCatalogue> = {
  de: contactsDe,
  fr: contactsFr,
  es: contactsEs,
  'pt-BR': contactsPtBR,
  ar: contactsAr,
};
