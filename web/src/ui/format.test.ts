import { describe, expect, it } from 'vitest';
import { countryName, formatDateTime, formatDuration, formatNumber } from './format';

describe('Intl formatting', () => {
  it('formats call and waiting times', () => {
    expect(formatDuration(0, 'en')).toBe('0:00');
    expect(formatDuration(75_400, 'en')).toBe('1:15');
    expect(formatDuration(3_723_000, 'en')).toBe('1:02:03');
    expect(formatDuration(-5, 'en')).toBe('0:00');
  });
  it('uses the visitor locale for numbers, dates and country names', () => {
    expect(formatNumber(12345, 'de')).toBe('12.345');
    expect(formatNumber(12345, 'en')).toBe('12,345');
    expect(countryName('DE', 'de')).toBe('Deutschland');
    expect(countryName('DE', 'fr')).toBe('Allemagne');
    expect(formatDateTime(new Date(Date.UTC(2031, 0, 2, 3, 4)), 'en')).toMatch(/2031/);
  });
});
