import { describe, expect, it } from 'vitest';
import { ApiError } from '../lib/api';
import { parseContactsRoute } from '../contacts/ContactsApp';
import { ROLES, staffErrorText, standingChange } from './Staff';

describe('staff page', () => {
  it('offers every role and sends one change at a time', () => {
    expect(ROLES).toEqual(['user', 'moderator', 'admin']);
    expect(standingChange({ role: 'user' })).toEqual({ role: 'user' });
    expect(standingChange({ disabled: true })).toEqual({ disabled: true });
  });

  it('names the server refusals in the catalogue', () => {
    expect(staffErrorText(new ApiError(409, 'last_admin', 'x'))).toBe('This is the last active admin: make another admin first.');
    expect(staffErrorText(new ApiError(409, 'cannot_change_self', 'x'))).toBe('You cannot change your own role or disable yourself.');
    expect(staffErrorText(new ApiError(404, 'not_found', 'no such account'))).toBe('Not found — it may have been removed meanwhile.');
    expect(staffErrorText(new ApiError(400, 'invalid_request', 'password too short'))).toBe('Not accepted: password too short');
  });
});

describe('contacts routes', () => {
  it('opens the reset page for a mailed link', () => {
    const token = 'Z'.repeat(43);
    expect(parseContactsRoute(`#/contacts/reset/${token}`)).toEqual({ name: 'contacts', channelId: null, resetToken: token });
    expect(parseContactsRoute('#/contacts')).toEqual({ name: 'contacts', channelId: null });
    expect(parseContactsRoute('#/contacts/reset/')).toBeNull();
  });
});
