/** emojibase-data's JSON files, imported lazily by emojiData.ts (their shape is checked there). */
declare module 'emojibase-data/*/data.json' {
  const data: unknown;
  export default data;
}
declare module 'emojibase-data/*/messages.json' {
  const messages: unknown;
  export default messages;
}
