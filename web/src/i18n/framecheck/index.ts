import type { framecheckEn } from './en';
import { framecheckAr } from './ar';
import { framecheckDe } from './de';
import { framecheckEs } from './es';
import { framecheckFr } from './fr';
import { framecheckPtBR } from './pt-BR';

export type FramecheckKey = keyof typeof framecheckEn;
export type FramecheckCatalogue = Record<FramecheckKey, string>;

/** Frame moderation's translations by language code (complete: framecheck/i18n.test.ts checks it). */
export const framecheckTranslations: Record<string, Partial<Record<FramecheckKey, string>>> = {
  de: framecheckDe,
  fr: framecheckFr,
  es: framecheckEs,
  'pt-BR': framecheckPtBR,
  ar: framecheckAr,
};
