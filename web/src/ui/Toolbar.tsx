import { useState } from 'react';
import { Languages, Monitor, Moon, Sun } from 'lucide-react';
import { LOCALES, getLocale, setLocale, useT } from '../i18n';
import { loadTheme, saveTheme, type ThemeChoice } from './theme';

/** The top bar's language switcher and theme toggle (system → light → dark). */
export function Toolbar() {
  const t = useT();
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const nextTheme: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
  const ThemeIcon = theme === 'dark' ? Moon : theme === 'light' ? Sun : Monitor;
  const themeName = t(`app.theme.${theme}`);
  return (
    <div className="toolbar">
      <label className="lang-switch">
        <Languages aria-hidden="true" size={16} />
        <span className="sr-only">{t('app.language.label')}</span>
        <select data-testid="ui-language" value={getLocale()} onChange={(e) => setLocale(e.target.value)}>
          {LOCALES.map((l) => (
            <option key={l.code} value={l.code} lang={l.code}>
              {l.name}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        className="icon-btn"
        data-testid="theme-toggle"
        aria-label={`${t('app.theme.label')}: ${themeName}`}
        title={`${t('app.theme.label')}: ${themeName}`}
        onClick={() => {
          const n = nextTheme[theme];
          saveTheme(n);
          setTheme(n);
        }}
      >
        <ThemeIcon aria-hidden="true" size={18} />
      </button>
    </div>
  );
}
