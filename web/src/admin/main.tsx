import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AdminApp } from './App';
import { AdminApi } from './api';
import { bindDocumentLanguage } from '../i18n';
import { applyTheme, loadTheme } from '../ui/theme';
import './admin.css';

// The dashboard speaks the moderator's language (switcher in the top bar) and follows the colour theme.
applyTheme(loadTheme());
bindDocumentLanguage();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AdminApp api={new AdminApi()} />
  </StrictMode>,
);
