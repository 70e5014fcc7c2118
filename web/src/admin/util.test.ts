import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../lib/api';
import { setLocale } from '../i18n';
import { durationLabel, errorMessage, fmtAgo, fmtDuration, fmtNumber, fmtTime, label } from './util';
import { nextReportId } from './Reports';

afterEach(() => setLocale('en'));

describe('dashboard formatting (Intl, active locale)', () => {
  it('formats numbers, durations and relative times per locale', () => {
    expect(fmtNumber(12345, 'de')).toBe('12.345');
    expect(fmtNumber(2.25, 'en')).toBe('2.3');
    expect(fmtNumber(null)).toBe('—');
    expect(fmtDuration(75, 'en')).toBe('1m 15s');
    expect(fmtDuration(3720, 'en')).toBe('1h 2m');
    expect(fmtDuration(5, 'ar')).toContain('ث'); // Arabic unit names
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    expect(fmtAgo(now - 5 * 60_000, now, 'en')).toBe('5 min. ago');
    expect(fmtAgo(now - 5 * 60_000, now, 'de')).toBe('vor 5 Min.');
    expect(fmtTime('2031-01-02T03:04:05Z', 'de')).toMatch(/2031/);
    expect(durationLabel(168, 'en')).toBe('7 days');
    expect(durationLabel(24, 'fr')).toMatch(/^24\sheures$/);
  });

  it('names server values and error codes in the active language', () => {
    setLocale('de');
    expect(label('status', 'pending')).not.toBe('Pending');
    expect(label('status', 'something_new')).toBe('something_new');
    expect(durationLabel(null)).not.toBe('Permanent');
    setLocale('en');
    expect(errorMessage(new ApiError(401, 'invalid_credentials', 'invalid email or password'))).toBe('Wrong email or password.');
    expect(errorMessage(new ApiError(429, 'rate_limited', 'x', 3000))).toBe('Too many attempts. (try again in 3 s)');
    // A 400 carries the server's specific reason (e.g. why a typed ban value cannot match).
    expect(errorMessage(new ApiError(400, 'invalid_request', 'a range wider than /8 is refused'))).toBe('Not accepted: a range wider than /8 is refused');
    // With a reason code the sentence comes from the catalogue, in the moderator's language.
    const tooWide = new ApiError(400, 'invalid_request', 'a range wider than /8 is refused: …', undefined, undefined, {
      reason: 'ban_range_too_wide',
      params: { prefix: 24 },
    });
    setLocale('de');
    expect(errorMessage(tooWide)).toBe('Nicht angenommen: ein Bereich größer als /24 wird abgelehnt: er würde zu viele Menschen aussperren');
    const unknown = new ApiError(400, 'invalid_request', 'a newer reason', undefined, undefined, { reason: 'ban_something_new' });
    expect(errorMessage(unknown)).toBe('Nicht angenommen: a newer reason');
    // Another code's reason is a sentence of its own, not "not accepted: …".
    const gone = new ApiError(404, 'not_found', 'no such account', undefined, undefined, { reason: 'account_not_found', params: {} });
    expect(errorMessage(gone)).toBe('Dieses Konto existiert nicht.');
    setLocale('en');
    expect(errorMessage(gone)).toBe('This account does not exist.');
    expect(errorMessage(new Error(''))).toBe('Something went wrong — please try again.');
  });
});

describe('report queue by keyboard', () => {
  const list = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  it('opens the following report, also when the decided one left the list', () => {
    expect(nextReportId(list, 'a', 0)).toBe('b');
    expect(nextReportId([{ id: 'b' }, { id: 'c' }], 'a', 0)).toBe('b');
    expect(nextReportId([{ id: 'a' }, { id: 'b' }], 'c', 2)).toBe('b');
    expect(nextReportId([{ id: 'a' }], 'a', 0)).toBe(null);
    expect(nextReportId([], 'a', 0)).toBe(null);
  });
});

describe('ban value descriptions', () => {
  it('say what an IPv4 value matches as the server does, in the active language', async () => {
    const { describeBan, ipv4Network } = await import('./banText');
    expect(ipv4Network('100.64.3.77/24')).toEqual({ address: '100.64.3.0', prefix: 24, count: 256 });
    expect(ipv4Network('10.1.2.3')).toEqual({ address: '10.1.2.3', prefix: 32, count: 1 });
    expect(ipv4Network('300.1.1.1')).toBe(null);
    expect(ipv4Network('2001:db8::1')).toBe(null);
    // A server without description codes: worked out here, its English kept for the rest.
    const old = (value: string, description: string) => ({ value, description });
    expect(describeBan('ip', '100.64.3.77/24', old('h', 'x'))).toBe('every address in 100.64.3.0/24 (256 addresses)');
    expect(describeBan('ip', '10.0.0.0/16', old('h', 'x'))).toBe('every address in 10.0.0.0/16 (65,536 addresses)');
    expect(describeBan('ip', '2001:db8::1', old('h', 'the /64 network of 2001:db8::'))).toBe('the /64 network of 2001:db8::');
    expect(describeBan('account', 'a@b.c', old('id', 'the account A <a@b.c>'))).toBe('the account A <a@b.c>');
    setLocale('de');
    expect(describeBan('device', 'guest:dev_1234abcd', old('dev_1234abcd', 'x'))).toBe('die Browser-Installation mit der Geräte-ID dev_1234abcd');
    expect(describeBan('ip', '10.0.0.0/16', old('h', 'x'))).toBe('jede Adresse in 10.0.0.0/16 (65.536 Adressen)');
  });

  it('say accounts and IPv6 networks from the server\'s code, not its English', async () => {
    const { describeBan } = await import('./banText');
    const coded = (descriptionCode: string, descriptionParams: Record<string, string | number>) => ({
      value: 'v',
      description: 'English from the server',
      descriptionCode,
      descriptionParams,
    });
    setLocale('de');
    expect(describeBan('account', 'zoe@x.test', coded('account', { name: 'Zoë', email: 'zoe@x.test' }))).toBe('das Konto Zoë <zoe@x.test>');
    expect(describeBan('ip', '2001:db8:1:2::7', coded('ipv6_network', { address: '2001:db8:1:2::' }))).toBe('das /64-Netz von 2001:db8:1:2::');
    // 2^96 addresses: exact, grouped the German way (a JavaScript number would round it).
    expect(describeBan('ip', '2001:db8::/32', coded('range', { range: '2001:db8::/32', count: '79228162514264337593543950336' }))).toBe(
      'jede Adresse in 2001:db8::/32 (79.228.162.514.264.337.593.543.950.336 Adressen)',
    );
    setLocale('ar');
    expect(describeBan('account', 'zoe@x.test', coded('account', { name: 'Zoë', email: 'zoe@x.test' }))).toBe('الحساب Zoë <zoe@x.test>');
    setLocale('en');
    expect(describeBan('ip', 'x', coded('something_new', {}))).toBe('English from the server');
  });
});
