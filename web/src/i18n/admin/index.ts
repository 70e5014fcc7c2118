/**
 * The moderation dashboard's translations by language code, merged into each
 * language's catalogue by ../index.ts; a missing key falls back to English.
 */
import type { adminEn } from './en';
import { adminDe } from './de';
import { adminFr } from './fr';
import { adminEs } from './es';
import { adminPtBR } from './pt-BR';
import { adminAr } from './ar';

export type AdminKey = keyof typeof adminEn;
export type AdminCatalogue = Partial<Record<AdminKey, string>>;

export const adminTranslations: Record<string, AdminCatalogue> = {
  de: adminDe,
  fr: adminFr,
  es: adminEs,
  'pt-BR': adminPtBR,
  ar: adminAr,
};
