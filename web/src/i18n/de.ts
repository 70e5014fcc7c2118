import type { MessageKey } from './en';

/** de catalogue (partial: a missing key falls back to English). */
export const de: Partial<Record<MessageKey, string>> = {};
