import { describe, expect, it } from 'vitest';
import { t } from './index';

describe('t', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(t('contacts.blockedNotice', { name: 'Bob' })).toBe('You blocked Bob.');
    expect(t('contacts.blockedNotice')).toBe('You blocked {name}.');
  });
});
