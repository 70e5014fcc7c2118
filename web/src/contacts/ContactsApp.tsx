/**
 * The contacts product's shell: routes to the auth screen, the reset screen or
 * the two-column messenger (list | conversation). The parts live next to it:
 * ConversationList, Conversation (Composer, MessageItem, ReportForm), Settings,
 * CallScreen; the controller in store → messaging → sync → calls → callMedia.
 */
import { useEffect } from 'react';
import type { ContactsController } from './callMedia';
import { ResetPasswordScreen } from './Account';
import { AuthScreen } from './AuthScreen';
import { useContacts, type ContactsRoute } from './common';
import { Conversation } from './Conversation';
import { noteText } from './model';
import { CallHistory, ChannelList, SearchPanel } from './ConversationList';
import { ProfilePanel } from './Settings';
import { t } from '../i18n';
import './messenger.css';

export { CallLayer, CallNotice } from './CallScreen';
export { channelHash, parseContactsRoute, useContacts, type ContactsRoute } from './common';

export function ContactsApp({ contacts, route }: { contacts: ContactsController; route: ContactsRoute }) {
  const s = useContacts(contacts);
  const channelId = route.channelId;

  useEffect(() => {
    contacts.openChannel(s.auth === 'loggedIn' ? channelId : null);
  }, [contacts, channelId, s.auth]);
  useEffect(() => () => contacts.openChannel(null), [contacts]);
  if (route.resetToken) return <ResetPasswordScreen contacts={contacts} token={route.resetToken} />;
  if (s.auth === 'checking')
    return (
      <main className="card">
        <p className="muted">{t('messenger.loading')}</p>
      </main>
    );
  if (s.auth === 'error')
    return (
      <main className="card">
        <p className="notice warn" data-testid="auth-error">
          {s.authError && noteText(s.authError)}
        </p>
        <button className="btn" onClick={() => contacts.retrySession()}>
          {t('messenger.tryAgain')}
        </button>
      </main>
    );
  if (s.auth === 'loggedOut') return <AuthScreen contacts={contacts} s={s} />;

  return (
    <main className={`contacts ${channelId ? 'has-conversation' : ''}`}>
      <h1 className="sr-only">{t('app.nav.contacts')}</h1>
      <aside className="contacts-side" aria-label={t('messenger.conversations')}>
        <ProfilePanel contacts={contacts} s={s} />
        {s.error && (
          <p className="notice warn" data-testid="contacts-error" role="alert" onClick={() => contacts.dismissError()}>
            {noteText(s.error)}
          </p>
        )}
        <SearchPanel contacts={contacts} s={s} />
        <ChannelList contacts={contacts} s={s} activeId={channelId} />
        <CallHistory contacts={contacts} s={s} />
      </aside>
      <section className="contacts-main">
        {channelId ? (
          <Conversation contacts={contacts} s={s} channelId={channelId} />
        ) : (
          <div className="contacts-empty muted">{t('messenger.pickConversation')}</div>
        )}
      </section>
    </main>
  );
}
