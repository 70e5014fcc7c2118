/**
 * The full emoji picker for reactions (frimousse: search, categories, skin
 * tones, arrow keys + Enter from the search box). Loaded lazily by
 * MessageItem (React.lazy), and its data per language by emojiData.ts, so
 * neither is in the main bundle. Labels and search are in the UI language
 * where emojibase has it; Escape closes.
 */
import { EmojiPicker } from 'frimousse';
import { getLocale, useT } from '../../i18n';
import { emojiLocale, resolveEmojiData } from './emojiData';

/** A 0-based index from frimousse as the 1-based one ARIA wants (absent stays absent). */
export function ariaIndex(v: unknown): number | undefined {
  const n = Number(v);
  return v === undefined || v === null || !Number.isFinite(n) ? undefined : n + 1;
}

export default function ReactionPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const t = useT();
  return (
    <EmojiPicker.Root
      className="reaction-picker-full"
      data-testid="emoji-picker-full"
      locale={emojiLocale(getLocale())}
      resolveEmojiData={resolveEmojiData}
      columns={8}
      onEmojiSelect={({ emoji }) => onPick(emoji)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="reaction-picker-top">
        <EmojiPicker.Search
          data-testid="emoji-search"
          aria-label={t('messenger.emoji.searchLabel')}
          placeholder={t('messenger.emoji.search')}
          autoFocus
        />
        <EmojiPicker.SkinToneSelector
          className="react"
          data-testid="emoji-skin-tone"
          aria-label={t('messenger.emoji.skinTone')}
          title={t('messenger.emoji.skinTone')}
        />
      </div>
      <EmojiPicker.Viewport className="reaction-picker-viewport">
        <EmojiPicker.Loading className="muted small reaction-picker-state">{t('messenger.emoji.loading')}</EmojiPicker.Loading>
        <EmojiPicker.Empty className="muted small reaction-picker-state">{t('messenger.emoji.noResults')}</EmojiPicker.Empty>
        <EmojiPicker.List
          className="reaction-picker-list"
          components={{
            CategoryHeader: ({ category, ...props }) => (
              <div className="reaction-picker-category" {...props}>
                {category.label}
              </div>
            ),
            // frimousse numbers rows and cells from 0; ARIA's aria-rowindex/colindex start at 1.
            Row: ({ children, ...props }) => (
              <div className="reaction-picker-row" {...props} aria-rowindex={ariaIndex(props['aria-rowindex'])}>
                {children}
              </div>
            ),
            Emoji: ({ emoji, ...props }) => (
              <button
                className={`reaction-picker-emoji ${emoji.isActive ? 'active' : ''}`}
                data-testid="emoji-picker-emoji"
                data-emoji={emoji.emoji}
                {...props}
                aria-colindex={ariaIndex(props['aria-colindex'])}
                aria-label={emoji.label}
              >
                {emoji.emoji}
              </button>
            ),
          }}
        />
      </EmojiPicker.Viewport>
    </EmojiPicker.Root>
  );
}
