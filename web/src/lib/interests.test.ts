import { describe, expect, it } from 'vitest';
import { parseInterests } from './interests';

describe('parseInterests', () => {
  it('splits on commas, trims, lowercases and drops empties and duplicates', () => {
    expect(parseInterests('  Music, Cats ,music,, Go ')).toEqual(['music', 'cats', 'go']);
  });
  it('keeps at most 10', () => {
    const input = Array.from({ length: 15 }, (_, i) => `t${i}`).join(',');
    expect(parseInterests(input)).toHaveLength(10);
    expect(parseInterests(input)[9]).toBe('t9');
  });
  it('returns [] for blank input', () => {
    expect(parseInterests('   ,  ,')).toEqual([]);
  });
});

describe('parseInterests length', () => {
  it('cuts each interest to 32 characters (server limit)', () => {
    expect(parseInterests('a'.repeat(50))[0]).toHaveLength(32);
  });
});
