import { useState } from 'react';
import { safeStorage } from '../lib/api';
import type { ChatController, ChatState } from './controller';
import { Consent } from './screens/Consent';
import { StartScreen } from './screens/StartScreen';
import { ChatScreen } from './screens/ChatScreen';
import { BanScreen } from './screens/BanScreen';

const CONSENT_KEY = 'connect.consent';
/** Bumped when the rules change, so every visitor reads the new ones once (2: automatic frame checks). */
const CONSENT_VERSION = '2';

/** The strangers product's screens: ban, consent (once), start, chat. */
export function StrangersApp({ controller, state }: { controller: ChatController; state: ChatState }) {
  const [consented, setConsented] = useState(() => safeStorage()?.getItem(CONSENT_KEY) === CONSENT_VERSION);
  if (state.screen === 'banned') return <BanScreen controller={controller} state={state} />;
  if (!consented)
    return (
      <Consent
        onAccept={() => {
          try {
            safeStorage()?.setItem(CONSENT_KEY, CONSENT_VERSION);
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
