import { describe, expect, it } from 'vitest';
import { callDuration, clockTime, fileSize, sameDayOrDate, shortDateTime, summaryDetails, summaryQuality } from './format';
import type { CallQualitySummary } from './model';

const summary = (over: Partial<CallQualitySummary> = {}): CallQualitySummary => ({
  samples: 4,
  rttMsAvg: 42.4,
  rttMsMax: 60,
  lossPctAvg: 0.25,
  lossPctMax: 1,
  bitrateKbpsAvg: 1250.6,
  candidateTypes: ['host'],
  ...over,
});

describe('contacts formats in the locale', () => {
  it('dates and times by Intl (German and Arabic differ from English)', () => {
    const iso = '2026-12-05T14:02:00Z';
    expect(shortDateTime(iso, 'de')).toMatch(/05\.12\.26/);
    expect(shortDateTime(iso, 'en-US')).toMatch(/12\/5\/26/);
    expect(shortDateTime(iso, 'ar')).not.toEqual(shortDateTime(iso, 'en-US'));
    expect(clockTime('nonsense', 'de')).toBe('');
    expect(shortDateTime(null, 'de')).toBe('');
  });

  it('last seen: the time today, else day and month', () => {
    const now = Date.parse('2026-12-05T18:00:00');
    expect(sameDayOrDate('2026-12-05T09:30:00', now, 'de')).toBe('09:30');
    expect(sameDayOrDate('2026-12-03T09:30:00', now, 'de')).toMatch(/3\. Dez/);
  });

  it('durations and sizes', () => {
    expect(callDuration(65.4, 'en')).toBe('1:05');
    expect(callDuration(null)).toBe('');
    expect(fileSize(512, 'en')).toBe('512 B');
    expect(fileSize(2048, 'en')).toBe('2 KB');
    expect(fileSize(3.5 * 1048576, 'de')).toBe('3,5 MB');
  });

  it('call quality summary: the live bands, and only the figures present', () => {
    expect(summaryQuality(summary(), true)).toBe('good');
    expect(summaryQuality(summary({ lossPctAvg: 9 }), true)).toBe('poor');
    expect(summaryQuality(summary({ bitrateKbpsAvg: 200 }), true)).toBe('fair');
    expect(summaryQuality(summary({ bitrateKbpsAvg: 40 }), false)).toBe('good'); // audio: bitrate not judged
    expect(summaryQuality(summary({ samples: 0 }), true)).toBeNull();
    expect(summaryQuality(null, true)).toBeNull();
    expect(summaryDetails(summary(), 'en')).toBe('42 ms round trip · 0.3 % loss · 1,251 kbit/s');
    expect(summaryDetails(summary({ lossPctAvg: null, bitrateKbpsAvg: null }), 'en')).toBe('42 ms round trip');
  });
});
