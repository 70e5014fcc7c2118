import { Award, Flame, Frown, Hand, Heart, Laugh, PartyPopper, Smile, Sparkles, ThumbsDown, ThumbsUp, type LucideIcon } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { PICKER_REACTIONS, reactionFor } from '../reactions';
import { useT } from '../../i18n';

const ICONS: Record<string, LucideIcon> = { Award, Flame, Frown, Hand, Heart, Laugh, PartyPopper, Sparkles, ThumbsDown, ThumbsUp };

function ReactionIcon({ name, size }: { name: string; size: number }) {
  const Icon = ICONS[name] ?? Smile;
  return <Icon aria-hidden="true" size={size} />;
}

/** The reaction picker (sent to the partner) and the reactions floating over the call. */
export function ReactionPicker({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const on = state.phase === 'matched';
  return (
    <div className="reaction-picker" role="group" aria-label={t('reactions.label')}>
      {PICKER_REACTIONS.map((r) => (
        <button
          key={r.emoji}
          type="button"
          className="icon-btn"
          data-testid="reaction-button"
          data-emoji={r.emoji}
          aria-label={t(r.key)}
          title={t(r.key)}
          disabled={!on}
          onClick={() => controller.sendReaction(r.emoji)}
        >
          <ReactionIcon name={r.icon} size={18} />
        </button>
      ))}
    </div>
  );
}

export function ReactionStream({ state }: { state: ChatState }) {
  const t = useT();
  return (
    <div className="reaction-stream" aria-live="polite" data-testid="reaction-stream">
      {state.reactions.map((r) => {
        const def = reactionFor(r.emoji);
        if (!def) return null;
        const name = t(def.key);
        return (
          <span key={r.id} className={`reaction-float ${r.from}`} data-testid={r.from === 'you' ? 'reaction-sent' : 'reaction-received'} data-emoji={r.emoji}>
            <ReactionIcon name={def.icon} size={22} />
            <span className="sr-only">{r.from === 'you' ? t('reactions.sent', { reaction: name }) : t('reactions.received', { reaction: name })}</span>
          </span>
        );
      })}
    </div>
  );
}
