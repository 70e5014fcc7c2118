import type { MessageKey } from './en';

/** es catalogue (partial: a missing key falls back to English). */
export const es: Partial<Record<MessageKey, string>> = {};
