import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ChatController } from './lib/controller';
import { ContactsController } from './lib/contacts';
import './styles.css';
import { applyTheme, loadTheme } from './ui/theme';
import { bindDocumentLanguage } from './i18n';

applyTheme(loadTheme());
bindDocumentLanguage();

const controller = new ChatController();
const contacts = new ContactsController();
void contacts.init();
document.addEventListener('visibilitychange', () => contacts.visibilityChanged());

// Close the socket when the page goes away so the server ends the session at once.
window.addEventListener('pagehide', () => {
  controller.shutdown();
  contacts.shutdown();
});
// Coming back from the back/forward cache: the socket is gone, start clean.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App controller={controller} contacts={contacts} />
  </StrictMode>,
);
