import { describe, expect, it } from 'vitest';
import { countryCriteria, loadPrefs, parseCountries, savePrefs, PREFS_KEY } from './prefs';

function memoryStore() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe('country preference', () => {
  it('parses codes: two letters, upper case, unique, at most 20', () => {
    expect(parseCountries('de, AT ,xx1, ch;de fr')).toEqual(['DE', 'AT', 'CH', 'FR']);
    const many = Array.from({ length: 30 }, (_, i) => String.fromCharCode(65 + (i % 26)) + String.fromCharCode(65 + Math.floor(i / 26)));
    expect(parseCountries(many)).toHaveLength(20);
  });
  it('maps the choice to join-queue fields', () => {
    expect(countryCriteria({ country: 'any', countries: ['DE'], hideCountry: false })).toEqual({});
    expect(countryCriteria({ country: 'mine', countries: [], hideCountry: true })).toEqual({ country: 'mine', hideCountry: true });
    expect(countryCriteria({ country: 'list', countries: ['de', 'AT'], hideCountry: false })).toEqual({ countries: ['DE', 'AT'] });
    expect(countryCriteria({ country: 'list', countries: [], hideCountry: false })).toEqual({});
  });
});

describe('remembered choices', () => {
  it('survive a reload and keep defaults for what was never set', () => {
    const store = memoryStore();
    savePrefs({ interests: 'Chess, music', language: 'de', country: 'list', countries: ['DE'], autoRequeue: false }, store);
    const p = loadPrefs(store);
    expect(p).toMatchObject({ mode: 'video', interests: 'chess, music', language: 'de', country: 'list', countries: ['DE'], autoRequeue: false });
  });
  it('drop a tampered value field by field', () => {
    const store = memoryStore();
    store.setItem(PREFS_KEY, JSON.stringify({ mode: 'audio', language: '<script>', countries: ['DE', 5, 'toolong'], autoRequeue: 'yes', interests: 'ok' }));
    expect(loadPrefs(store)).toEqual({ mode: 'video', interests: 'ok', language: '', country: 'any', countries: ['DE'], hideCountry: false, autoRequeue: true });
    store.setItem(PREFS_KEY, '{not json');
    expect(loadPrefs(store).mode).toBe('video');
  });
});
