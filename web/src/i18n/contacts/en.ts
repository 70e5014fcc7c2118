/**
 * The contacts app's English strings (keys `contacts.*`, or `messenger.*` for contacts).
 * Merged into the main catalogue by ../en.ts; the other languages live beside this
 * file and are merged by ./index.ts.
 */
export const contactsEn = {} as const;
