/**
 * The visitor app's shell: top bar (name, navigation, language, theme), the
 * service banners, then either the contacts product (#/contacts…) or the
 * strangers product (strangers/StrangersApp.tsx).
 */
import { useEffect, useSyncExternalStore } from 'react';
import { UnavailableBanner } from './lib/UnavailableBanner';
import type { ChatController } from './lib/controller';
import { CallLayer, CallNotice, ContactsApp, parseContactsRoute, type ContactsRoute } from './contacts/ContactsApp';
import type { ContactsController } from './lib/contacts';
import { useT } from './i18n';
import { StrangersApp } from './strangers/StrangersApp';
import { Toolbar } from './ui/Toolbar';

function useHashRoute(): ContactsRoute | null {
  const hash = useSyncExternalStore(
    (fn) => {
      window.addEventListener('hashchange', fn);
      return () => window.removeEventListener('hashchange', fn);
    },
    () => location.hash,
  );
  return parseContactsRoute(hash);
}

export function App({ controller, contacts }: { controller: ChatController; contacts: ContactsController }) {
  const t = useT();
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const route = useHashRoute();
  // Leaving the start screen for contacts: the camera preview goes off (a contacts call opens its own).
  useEffect(() => {
    if (route && controller.getState().screen === 'start') controller.media.stop();
  }, [route !== null, controller]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <span className="logo">{t('app.name')}</span>
        <span className="tagline">{route ? t('app.tagline.contacts') : t('app.tagline.strangers')}</span>
        <nav className="topnav" aria-label={t('app.nav.main')}>
          {route ? (
            <a href="#/" data-testid="nav-strangers">
              {t('app.nav.strangers')}
            </a>
          ) : (
            state.screen === 'start' && (
              <a href="#/contacts" data-testid="nav-contacts">
                {t('app.nav.contacts')}
              </a>
            )
          )}
        </nav>
        <Toolbar />
      </header>
      <UnavailableBanner />
      <CallNotice contacts={contacts} />
      {!route && state.warning && state.screen !== 'banned' && (
        <div className="warning-banner" data-testid="warning-banner" role="alert">
          <strong>{t('app.warning.title')}</strong> <span data-testid="warning-message">{state.warning}</span>
          <button className="link" data-testid="warning-dismiss" onClick={() => controller.dismissWarning()}>
            {t('app.dismiss')}
          </button>
        </div>
      )}
      {route ? <ContactsApp contacts={contacts} route={route} /> : <StrangersApp controller={controller} state={state} />}
      <CallLayer contacts={contacts} />
    </div>
  );
}
