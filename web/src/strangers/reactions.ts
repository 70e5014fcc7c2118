/**
 * In-call emoji reactions. The wire carries the emoji itself (`send-reaction
 * {"emoji"}`, relayed as `reaction {"from","emoji"}`); the screen draws an icon
 * from the icon set with a translated name, so no emoji font is needed.
 */
import type { MessageKey } from '../i18n';
import type { SendReactionIn } from '../protocol';

export type ReactionEmoji = SendReactionIn['emoji'];

export interface ReactionDef {
  emoji: ReactionEmoji;
  key: MessageKey;
  icon: 'ThumbsUp' | 'ThumbsDown' | 'Laugh' | 'Heart' | 'Sparkles' | 'Frown' | 'Award' | 'Flame' | 'Hand' | 'PartyPopper';
}

/** Every emoji the server relays (docs/protocol.md), in the order the picker shows them. */
export const REACTIONS: readonly ReactionDef[] = [
  { emoji: '👍', key: 'reactions.like', icon: 'ThumbsUp' },
  { emoji: '❤️', key: 'reactions.love', icon: 'Heart' },
  { emoji: '😂', key: 'reactions.laugh', icon: 'Laugh' },
  { emoji: '👋', key: 'reactions.wave', icon: 'Hand' },
  { emoji: '🔥', key: 'reactions.fire', icon: 'Flame' },
  { emoji: '🎉', key: 'reactions.party', icon: 'PartyPopper' },
  { emoji: '😮', key: 'reactions.wow', icon: 'Sparkles' },
  { emoji: '👏', key: 'reactions.clap', icon: 'Award' },
  { emoji: '😢', key: 'reactions.sad', icon: 'Frown' },
  { emoji: '👎', key: 'reactions.dislike', icon: 'ThumbsDown' },
];

/** The picker's subset (the rest are shown when received). */
export const PICKER_REACTIONS = REACTIONS.slice(0, 6);

export function reactionFor(emoji: unknown): ReactionDef | null {
  if (typeof emoji !== 'string') return null;
  return REACTIONS.find((r) => r.emoji === emoji) ?? null;
}

/** How long a reaction stays on screen, and how many at once. */
export const REACTION_SHOW_MS = 4000;
export const MAX_SHOWN_REACTIONS = 6;
