import { afterEach, describe, expect, it } from 'vitest';
import { setLocale, t } from '../../i18n';
import { banReasonText } from './BanScreen';
import { banReason } from '../../admin/banText';
import type { BanInfo } from '../../protocol';

afterEach(() => setLocale('en'));

const appeal = { banId: 'b1', token: 'tok', url: '/api/appeals' };

describe('why a visitor is banned', () => {
  it('says an automatic ban (worded by the server) in the visitor language, a moderator reason as typed', () => {
    setLocale('de');
    const auto: BanInfo = { until: null, reason: 'suspended pending review: reported by 3 people', appeal, reasonCode: 'auto_reported', reasonParams: { reporters: 3 } };
    expect(banReasonText(auto, t)).toBe('Vorläufig gesperrt bis zur Prüfung: von 3 Personen gemeldet');
    setLocale('ar');
    const frame: BanInfo = { ...auto, reason: 'automatic frame check: X 0.93', reasonCode: 'auto_frame_check', reasonParams: { label: 'X', score: '0.93', reporters: null } };
    expect(banReasonText(frame, t)).toBe('فحص تلقائي: قد يخالف الفيديو الخاص بك القواعد (الدرجة 0.93)');
    expect(banReasonText({ until: null, reason: 'Beleidigungen im Chat', appeal }, t)).toBe('Beleidigungen im Chat');
    // An older server (no code) or a newer code this app does not know: the server's words.
    const newer = { ...auto, reasonCode: 'auto_something_new' } as unknown as BanInfo;
    expect(banReasonText(newer, t)).toBe(auto.reason);
  });

  it('says an automatic ban in the moderator language on the dashboard', () => {
    setLocale('fr');
    expect(banReason({ reason: 'x', reasonCode: 'auto_frame_check', reasonParams: { label: 'NUDE', score: '0.91' } })).toBe(
      'vérification automatique des images : NUDE 0.91',
    );
    expect(banReason({ reason: 'typed by staff' })).toBe('typed by staff');
  });
});
