import type { MessageKey } from './en';

/** fr catalogue (partial: a missing key falls back to English). */
export const fr: Partial<Record<MessageKey, string>> = {};
