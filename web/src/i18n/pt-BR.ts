import type { MessageKey } from './en';

/** Brazilian Portuguese catalogue (partial: a missing key falls back to English). */
export const ptBR: Partial<Record<MessageKey, string>> = {};
