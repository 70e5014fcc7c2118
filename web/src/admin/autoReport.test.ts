import { describe, expect, it } from 'vitest';
import { isAutoReport, scoreRows } from './AutoReport';

describe('AutoReport helpers', () => {
  it('orders the scores highest first, bounded to 0..1, with a percentage', () => {
    expect(scoreRows({ B: 0.25, A: 0.9134, C: 1.7, D: -1, E: Number.NaN })).toEqual([
      { label: 'C', value: 1, pct: '100 %' },
      { label: 'A', value: 0.9134, pct: '91.3 %' },
      { label: 'B', value: 0.25, pct: '25.0 %' },
      { label: 'D', value: 0, pct: '0 %' },
    ]);
    expect(scoreRows(null)).toEqual([]);
    expect(scoreRows(undefined)).toEqual([]);
  });

  it('knows an automatic report by its source', () => {
    expect(isAutoReport({ source: 'auto' })).toBe(true);
    expect(isAutoReport({ source: 'session' })).toBe(false);
    expect(isAutoReport({})).toBe(false);
  });
});
