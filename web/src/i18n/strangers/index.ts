/**
 * The strangers app's translations by language code, merged into each
 * language's catalogue by ../index.ts. Each is complete (the type asks for
 * every key of ./en.ts; strangers.test.ts checks the placeholders too).
 */
import type { strangersEn } from './en';
import { strangersAr } from './ar';
import { strangersDe } from './de';
import { strangersEs } from './es';
import { strangersFr } from './fr';
import { strangersPtBR } from './pt-BR';

export type StrangersKey = keyof typeof strangersEn;
export type StrangersCatalogue = Record<StrangersKey, string>;

export const strangersTranslations: Record<string, Partial<Record<StrangersKey, string>>> = {
  de: strangersDe,
  fr: strangersFr,
  es: strangersEs,
  'pt-BR': strangersPtBR,
  ar: strangersAr,
};
