import { describe, expect, it } from 'vitest';
import { PICKER_REACTIONS, REACTIONS, reactionFor } from './reactions';
import { en } from '../i18n/en';

describe('reactions', () => {
  it('covers exactly the emoji the server relays, each with a label', () => {
    expect(REACTIONS.map((r) => r.emoji).sort()).toEqual(['👍', '👎', '😂', '❤️', '😮', '😢', '👏', '🔥', '👋', '🎉'].sort());
    for (const r of REACTIONS) expect(en[r.key]).toBeTruthy();
    expect(PICKER_REACTIONS.length).toBeGreaterThan(3);
  });
  it('refuses anything else (an untrusted relay)', () => {
    expect(reactionFor('👍')?.key).toBe('reactions.like');
    expect(reactionFor('<img>')).toBeNull();
    expect(reactionFor(42)).toBeNull();
  });
});
