import type { MessageKey } from './en';

/** ar catalogue (partial: a missing key falls back to English). */
export const ar: Partial<Record<MessageKey, string>> = {};
