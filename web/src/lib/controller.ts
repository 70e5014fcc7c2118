/**
 * Kept for existing imports (tests, lib/debug.ts): the strangers controller now
 * lives in strangers/controller/ (state machine, captcha, chat, media, call, reporting).
 */
export * from '../strangers/controller';
