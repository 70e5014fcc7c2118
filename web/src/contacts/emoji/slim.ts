/**
 * emojibase's data.json cut down at build time (a Vite transform in
 * vite.config.ts) to what the reaction picker reads (emojiData.ts): the lazily
 * loaded chunk per language shrinks by more than half (German: 779 → 341 kB).
 * Components (skin-tone swatches, hair) and entries without a group (lone
 * regional indicators) are dropped here too: they are not reactions.
 */
interface Skin {
  emoji: string;
  tone?: number | number[];
}
interface Entry {
  emoji: string;
  label: string;
  group?: number;
  subgroup?: number;
  version: number;
  tags?: string[];
  skins?: Skin[];
}

export function slimEmojibase(raw: unknown): Entry[] {
  if (!Array.isArray(raw)) throw new Error('emojibase data.json is not a list');
  return (raw as Entry[])
    .filter((e) => typeof e.group === 'number' && e.group !== 2)
    .map((e) => {
      const out: Entry = { emoji: e.emoji, label: e.label, group: e.group, version: e.version };
      if (e.subgroup !== undefined) out.subgroup = e.subgroup;
      if (e.tags?.length) out.tags = e.tags;
      if (e.skins?.length) out.skins = e.skins.map((s) => ({ emoji: s.emoji, tone: s.tone }));
      return out;
    });
}

/** Whether a module id is one of emojibase's per-language data.json files. */
export function isEmojibaseData(id: string): boolean {
  return /emojibase-data[\\/][a-z-]+[\\/]data\.json$/.test(id.split('?')[0]!);
}
