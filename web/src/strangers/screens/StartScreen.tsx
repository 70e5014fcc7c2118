import { useEffect, useState, type FormEvent } from 'react';
import { MessageSquareText, Play, Users, Video as VideoIcon } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { parseInterests } from '../../lib/interests';
import { useT } from '../../i18n';
import { countryName, formatNumber } from '../../ui/format';
import { Button } from '../../ui/Button';
import { countryCriteria, loadPrefs, parseCountries, savePrefs, type CountryChoice, type StrangerPrefs } from '../prefs';
import { Video } from '../components/Video';
import { DevicePickers } from '../components/DevicePickers';
import { MediaProblemPanel } from '../components/MediaProblemPanel';

/** Match languages offered (codes; names come from Intl.DisplayNames in each language's own words). */
export const MATCH_LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt', 'nl', 'pl', 'ru', 'uk', 'tr', 'ar', 'hi', 'zh', 'ja', 'ko'];

function nativeName(code: string): string {
  try {
    return new Intl.DisplayNames([code], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Choices (remembered), camera preview with pickers, people online, Start. */
export function StartScreen({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const [prefs, setPrefs] = useState<StrangerPrefs>(() => loadPrefs());
  const [countriesText, setCountriesText] = useState(() => prefs.countries.join(', '));
  const parsed = parseInterests(prefs.interests);
  const mode = prefs.mode;

  const update = (p: Partial<StrangerPrefs>) => setPrefs(savePrefs(p));

  // The preview: open the camera on the start screen in video mode (one permission prompt, reused by the call).
  useEffect(() => {
    if (mode === 'video') void controller.media.open();
  }, [mode, controller]);
  useEffect(() => controller.watchCounts(mode), [mode, controller]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const saved = savePrefs({ ...prefs, countries: parseCountries(countriesText) });
    controller.setAutoRequeue(saved.autoRequeue);
    void controller.start({ mode, interests: parsed, language: saved.language || undefined, ...countryCriteria(saved) });
  };

  const mine = state.myCountry ? t('start.country.mineKnown', { country: countryName(state.myCountry) }) : t('start.country.mine');
  const countryOptions: Array<[CountryChoice, string]> = [
    ['any', t('start.country.any')],
    ['mine', mine],
    ['list', t('start.country.list')],
  ];

  return (
    <main className="card start" id="main">
      <h1>{t('start.title')}</h1>
      {state.counts && (
        <p className="online muted small" data-testid="start-counts">
          <Users aria-hidden="true" size={16} />{' '}
          {t('start.online', { online: formatNumber(state.counts.online), waiting: formatNumber(state.counts.waiting) })}
        </p>
      )}
      <form onSubmit={submit}>
        <fieldset className="modes">
          <legend>{t('start.mode')}</legend>
          <button
            type="button"
            className={`mode ${mode === 'video' ? 'selected' : ''}`}
            data-testid="mode-video"
            aria-pressed={mode === 'video'}
            onClick={() => update({ mode: 'video' })}
          >
            <VideoIcon aria-hidden="true" size={22} />
            <strong>{t('start.mode.video')}</strong>
            <small>{t('start.mode.videoHint')}</small>
          </button>
          <button
            type="button"
            className={`mode ${mode === 'text' ? 'selected' : ''}`}
            data-testid="mode-text"
            aria-pressed={mode === 'text'}
            onClick={() => {
              update({ mode: 'text' });
              controller.media.stop();
            }}
          >
            <MessageSquareText aria-hidden="true" size={22} />
            <strong>{t('start.mode.text')}</strong>
            <small>{t('start.mode.textHint')}</small>
          </button>
        </fieldset>

        {mode === 'video' && (
          <section className="preview" aria-label={t('devices.title')}>
            <div className="preview-frame">
              <Video stream={state.localStream} muted testId="preview-video" className="preview-video" label={t('devices.preview')} />
              {!state.localStream && <span className="preview-empty">{t('devices.noCamera')}</span>}
            </div>
            <DevicePickers controller={controller} state={state} />
            <MediaProblemPanel controller={controller} state={state} />
          </section>
        )}

        <label className="field">
          <span>{t('start.interests')}</span>
          <input
            data-testid="interests-input"
            type="text"
            value={prefs.interests}
            maxLength={500}
            placeholder={t('start.interestsPlaceholder')}
            onChange={(e) => {
              // Remembered as typed (normalised in storage), shown as typed.
              savePrefs({ interests: e.target.value });
              setPrefs({ ...prefs, interests: e.target.value });
            }}
            onBlur={() => update({ interests: prefs.interests })}
          />
        </label>
        {parsed.length > 0 && (
          <div className="chips" aria-label={t('start.yourInterests')}>
            {parsed.map((i) => (
              <span className="chip" key={i}>
                {i}
              </span>
            ))}
          </div>
        )}

        <label className="field">
          <span>{t('start.language')}</span>
          <select data-testid="language-select" value={prefs.language} onChange={(e) => update({ language: e.target.value })}>
            <option value="">{t('start.anyLanguage')}</option>
            {MATCH_LANGUAGES.map((code) => (
              <option key={code} value={code} lang={code}>
                {nativeName(code)}
              </option>
            ))}
          </select>
        </label>

        <fieldset className="field country">
          <legend>{t('start.country')}</legend>
          {countryOptions.map(([value, label]) => (
            <label className="check" key={value}>
              <input
                type="radio"
                name="country"
                value={value}
                data-testid={`country-${value}`}
                checked={prefs.country === value}
                onChange={() => update({ country: value })}
              />
              <span>{label}</span>
            </label>
          ))}
          {prefs.country === 'list' && (
            <label className="field">
              <span>{t('start.country.listLabel')}</span>
              <input
                data-testid="countries-input"
                type="text"
                value={countriesText}
                maxLength={120}
                autoCapitalize="characters"
                onChange={(e) => {
                  setCountriesText(e.target.value);
                  savePrefs({ countries: parseCountries(e.target.value) });
                }}
                onBlur={() => update({ countries: parseCountries(countriesText) })}
              />
            </label>
          )}
          <label className="check">
            <input type="checkbox" data-testid="hide-country" checked={prefs.hideCountry} onChange={(e) => update({ hideCountry: e.target.checked })} />
            <span>{t('start.country.hideFlag')}</span>
          </label>
        </fieldset>

        <label className="check">
          <input type="checkbox" data-testid="auto-requeue" checked={prefs.autoRequeue} onChange={(e) => update({ autoRequeue: e.target.checked })} />
          <span>{t('start.autoRequeue')}</span>
        </label>

        {state.notice && <p className="notice">{state.notice}</p>}

        <Button icon={Play} variant="primary" className="big" type="submit" data-testid="start-button">
          {t('start.submit')}
        </Button>
        <p className="muted small">{mode === 'video' ? t('start.videoHint') : t('start.textHint')}</p>
      </form>
    </main>
  );
}
