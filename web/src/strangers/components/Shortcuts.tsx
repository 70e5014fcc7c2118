import { Keyboard } from 'lucide-react';
import { useEffect } from 'react';
import type { ChatController, ChatState } from '../controller';
import { useT } from '../../i18n';

/**
 * Keyboard shortcuts on the chat screen: Esc twice = Next (as Omegle did),
 * Alt+M mute, Alt+C camera. Esc inside the report form closes the form instead.
 */
export function useShortcuts(controller: ChatController, state: ChatState, enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      if (e.key === 'Escape' && !e.altKey && !e.ctrlKey && !e.metaKey) {
        controller.escape();
        return;
      }
      if (e.altKey && !e.ctrlKey && !e.metaKey && state.mode === 'video') {
        if (e.code === 'KeyM') {
          e.preventDefault();
          controller.toggleMic();
        } else if (e.code === 'KeyC') {
          e.preventDefault();
          controller.toggleCamera();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [controller, state.mode, enabled]);
}

export function ShortcutList({ video }: { video: boolean }) {
  const t = useT();
  return (
    <details className="shortcuts" data-testid="shortcuts">
      <summary>
        <Keyboard aria-hidden="true" size={16} /> {t('shortcuts.title')}
      </summary>
      <ul>
        <li>{t('shortcuts.next')}</li>
        {video && <li>{t('shortcuts.mute')}</li>}
        {video && <li>{t('shortcuts.camera')}</li>}
        <li>{t('shortcuts.send')}</li>
      </ul>
    </details>
  );
}
