import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ChatController } from './lib/controller';
import './styles.css';

const controller = new ChatController();

// Close the socket when the page goes away so the server ends the session at once.
window.addEventListener('pagehide', () => controller.shutdown());
// Coming back from the back/forward cache: the socket is gone, start clean.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App controller={controller} />
  </StrictMode>,
);
