export const MAX_INTERESTS = 10;
export const MAX_INTEREST_LENGTH = 32;

/** "Music, Cats , music,,Go" → ["music", "cats", "go"]: trimmed, lowercased, unique, at most 10. */
export function parseInterests(input: string): string[] {
  const out: string[] = [];
  for (const part of input.split(',')) {
    const v = part.trim().replace(/\s+/g, ' ').toLowerCase().slice(0, MAX_INTEREST_LENGTH).trim();
    if (!v || out.includes(v)) continue;
    out.push(v);
    if (out.length >= MAX_INTERESTS) break;
  }
  return out;
}
