import type { adminEn } from './en';

export type AdminKey = keyof typeof adminEn;

/** The admin app's translations by language code; a missing key falls back to English. */
export const adminTranslations: Record<string, Partial<Record<AdminKey, string>>> = {};
