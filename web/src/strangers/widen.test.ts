import { describe, expect, it } from 'vitest';
import { narrowedBy, parseWidenKinds, widenCriteria } from './widen';

describe('widen', () => {
  const c = { mode: 'video' as const, language: 'de', interests: ['chess'], countries: ['DE', 'AT'], hideCountry: true };

  it('drops exactly the named criteria and keeps the rest', () => {
    expect(widenCriteria(c, ['language'])).toEqual({ mode: 'video', interests: ['chess'], countries: ['DE', 'AT'], hideCountry: true });
    expect(widenCriteria(c, ['country'])).toEqual({ mode: 'video', language: 'de', interests: ['chess'], country: 'any', hideCountry: true });
    expect(widenCriteria(c, ['language', 'country', 'interests'])).toEqual({ mode: 'video', country: 'any', hideCountry: true });
  });

  it('does not change the criteria it was given', () => {
    widenCriteria(c, ['language', 'country', 'interests']);
    expect(c.language).toBe('de');
  });

  it('reads only known suggestions from the server, in contract order', () => {
    expect(parseWidenKinds(['interests', 'evil', 'language', 'language'])).toEqual(['language', 'interests']);
    expect(parseWidenKinds('language')).toEqual([]);
    expect(parseWidenKinds(null)).toEqual([]);
  });

  it('names what narrows a search', () => {
    expect(narrowedBy({ mode: 'text' })).toEqual([]);
    expect(narrowedBy({ mode: 'text', country: 'mine' })).toEqual(['country']);
    expect(narrowedBy(c)).toEqual(['language', 'country', 'interests']);
  });
});
