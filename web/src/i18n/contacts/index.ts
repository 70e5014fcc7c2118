import type { contactsEn } from './en';

export type ContactsKey = keyof typeof contactsEn;

/** The contacts app's translations by language code; a missing key falls back to English. */
export const contactsTranslations: Record<string, Partial<Record<ContactsKey, string>>> = {};
