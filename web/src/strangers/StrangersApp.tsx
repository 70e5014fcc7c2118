import { useState } from 'react';
import { safeStorage } from '../lib/api';
import type { ChatController, ChatState } from './controller';
import { Consent } from './screens/Consent';
import { StartScreen } from './screens/StartScreen';
import { ChatScreen } from './screens/ChatScreen';
import { BanScreen } from './screens/BanScreen';

const CONSENT_KEY = 'connect.consent';

/** The strangers product's screens: ban, consent (once), start, chat. */
export function StrangersApp({ controller, state }: { controller: ChatController; state: ChatState }) {
  const [consented, setConsented] = useState(() => safeStorage()?.getItem(CONSENT_KEY) === 'yes');
  if (state.screen === 'banned') return <BanScreen controller={controller} state={state} />;
  if (!consented)
    return (
      <Consent
        onAccept={() => {
          try {
            safeStorage()?.setItem(CONSENT_KEY, 'yes');
          } catch {
            /* ignore */
          }
          setConsented(true);
        }}
      />
    );
  if (state.screen === 'chat') return <ChatScreen controller={controller} state={state} />;
  return <StartScreen controller={controller} state={state} />;
}
