import { describe, expect, it } from 'vitest';
import type { UiMessage } from '../lib/messages';
import { loadMuted, saveMuted, shouldNotify, toggleMuted, totalUnread, unreadTitle, MUTED_KEY } from './notify';
import { applyDelete, applyEdit, applyReceipt, canEdit, quoteOf, tickOf } from './receipts';

const ME = 'me';
const PEER = 'peer';

function msg(seq: number, senderId = ME, extra: Partial<UiMessage> = {}): UiMessage {
  return {
    id: `m${seq}`,
    channelId: 'c1',
    seq,
    senderId,
    text: `text ${seq}`,
    attachment: null,
    clientId: `c${seq}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    deliveredAt: null,
    readAt: null,
    editedAt: null,
    deletedAt: null,
    replyTo: null,
    reactions: [],
    status: 'sent',
    ...extra,
  };
}

describe('receipt state', () => {
  it('goes sent → delivered → read on my messages only', () => {
    let list = [msg(1), msg(2, PEER), msg(3)];
    expect(list.map(tickOf)).toEqual(['sent', 'sent', 'sent']);
    list = applyReceipt(list, { channelId: 'c1', userId: PEER, status: 'delivered', messageIds: ['m1', 'm2'], at: 'T1' });
    expect(tickOf(list[0]!)).toBe('delivered');
    expect(list[1]!.deliveredAt).toBeNull(); // the reader's own message is not ticked
    expect(tickOf(list[2]!)).toBe('sent');
    list = applyReceipt(list, { channelId: 'c1', userId: PEER, status: 'read', upToSeq: 3, at: 'T2' });
    expect(list.map((m) => m.senderId === ME && tickOf(m))).toEqual(['read', false, 'read']);
    // read implies delivered; the earlier delivered time is kept
    expect(list[0]!.deliveredAt).toBe('T1');
    expect(list[2]!.deliveredAt).toBe('T2');
  });

  it('ignores repeats and older read marks (same array back)', () => {
    const list = applyReceipt([msg(1), msg(2)], { channelId: 'c1', userId: PEER, status: 'read', upToSeq: 2, at: 'T' });
    expect(applyReceipt(list, { channelId: 'c1', userId: PEER, status: 'read', upToSeq: 1, at: 'T3' })).toBe(list);
    expect(applyReceipt(list, { channelId: 'c1', userId: PEER, status: 'delivered', messageIds: ['m1'], at: 'T3' })).toBe(list);
  });

  it('read covers only seq ≤ upToSeq; local and failed messages show no ticks', () => {
    const list = applyReceipt([msg(1), msg(5)], { channelId: 'c1', userId: PEER, status: 'read', upToSeq: 4, at: 'T' });
    expect(list.map(tickOf)).toEqual(['read', 'sent']);
    expect(tickOf(msg(0, ME, { status: 'sending' }))).toBe('sending');
    expect(tickOf(msg(0, ME, { status: 'failed' }))).toBe('failed');
  });
});

describe('edits, tombstones, quotes', () => {
  it('an edit replaces the text and marks it edited', () => {
    const list = [msg(1), msg(2)];
    const next = applyEdit(list, { ...msg(1), text: 'new', editedAt: 'E' });
    expect(next[0]!.text).toBe('new');
    expect(next[0]!.editedAt).toBe('E');
    expect(applyEdit(list, { ...msg(9) })).toBe(list);
  });

  it('a delete leaves a tombstone and the quotes of it say deleted', () => {
    const quoted = msg(1, PEER, { attachment: { id: 'a', url: '/x', filename: 'f.png', contentType: 'image/png', size: 1 }, reactions: [{ emoji: '👍', userIds: [ME] }] });
    const reply = msg(2, ME, { replyTo: quoteOf(quoted) });
    const next = applyDelete([quoted, reply], { messageId: 'm1', deletedAt: 'D' });
    expect(next[0]).toMatchObject({ text: '', attachment: null, reactions: [], deletedAt: 'D' });
    expect(next[1]!.replyTo).toMatchObject({ id: 'm1', deleted: true, text: '' });
    expect(applyDelete(next, { messageId: 'm1', deletedAt: 'D2' })).toBe(next);
  });

  it('a reply quote is cut to 200 characters and notes an attachment', () => {
    const q = quoteOf(msg(1, PEER, { text: 'x'.repeat(300), attachment: { id: 'a', url: '/x', filename: 'f', contentType: 'text/plain', size: 1 } }));
    expect(q).toEqual({ id: 'm1', senderId: PEER, text: 'x'.repeat(200), hasAttachment: true, deleted: false });
  });

  it('only my own recent, live messages can be edited', () => {
    const m = msg(1);
    const at = Date.parse(m.createdAt);
    expect(canEdit(m, ME, at + 1000)).toBe(true);
    expect(canEdit(m, ME, at + 901_000)).toBe(false);
    expect(canEdit(m, PEER, at + 1000)).toBe(false);
    expect(canEdit({ ...m, deletedAt: 'D' }, ME, at + 1000)).toBe(false);
  });
});

describe('attention', () => {
  it('the title carries the unread count of unmuted conversations', () => {
    const channels = [
      { id: 'a', unreadCount: 2 },
      { id: 'b', unreadCount: 5 },
    ];
    expect(totalUnread(channels, [])).toBe(7);
    expect(totalUnread(channels, ['b'])).toBe(2);
    expect(unreadTitle('Connect', 2)).toBe('(2) Connect');
    expect(unreadTitle('(2) Connect', 0)).toBe('Connect');
    expect(unreadTitle('(2) Connect', 150)).toBe('(99+) Connect');
  });

  it('notifies only when hidden, granted, not mine, not muted (calls ring through a mute)', () => {
    const base = { kind: 'message' as const, hidden: true, permission: 'granted' as const, muted: false, fromMe: false, reading: false };
    expect(shouldNotify(base)).toBe(true);
    expect(shouldNotify({ ...base, hidden: false })).toBe(false);
    expect(shouldNotify({ ...base, permission: 'default' })).toBe(false);
    expect(shouldNotify({ ...base, fromMe: true })).toBe(false);
    expect(shouldNotify({ ...base, muted: true })).toBe(false);
    expect(shouldNotify({ ...base, kind: 'call', muted: true })).toBe(true);
    expect(shouldNotify({ ...base, kind: 'call', permission: 'denied' })).toBe(false);
  });

  it('mutes are toggled and kept on this device; junk in storage is ignored', () => {
    const data: Record<string, string> = {};
    const store = { getItem: (k: string) => data[k] ?? null, setItem: (k: string, v: string) => void (data[k] = v) };
    let muted = toggleMuted([], 'c1');
    muted = toggleMuted(muted, 'c2');
    muted = toggleMuted(muted, 'c1');
    saveMuted(store, muted);
    expect(loadMuted(store)).toEqual(['c2']);
    data[MUTED_KEY] = '{"not":"a list"}';
    expect(loadMuted(store)).toEqual([]);
    data[MUTED_KEY] = 'not json';
    expect(loadMuted(store)).toEqual([]);
    expect(loadMuted(null)).toEqual([]);
  });
});

describe('errText (server error codes as sentences)', () => {
  it('says a contacts code in the UI language, a shared code from errors.*, else the message', async () => {
    const { errText } = await import('./model');
    const { setLocale, getLocale } = await import('../i18n');
    const before = getLocale();
    try {
      setLocale('en');
      expect(errText({ code: 'edit_window_passed', message: 'too late' })).toBe('This message is too old to edit.');
      expect(errText({ code: 'rate_limited', message: 'too many requests' })).toBe('You are doing that too often.');
      expect(errText({ code: 'some_new_code', message: 'server words' })).toBe('server words');
      expect(errText(null)).toBe('Something went wrong');
      setLocale('de');
      expect(errText({ code: 'invalid_emoji', message: 'x' })).toBe('Eine Reaktion muss ein einzelnes Emoji sein.');
    } finally {
      setLocale(before);
    }
  });

  it('says the server\'s reason, when it names one, before the shared code, REST and gateway alike', async () => {
    const { errText } = await import('./model');
    const { setLocale, getLocale } = await import('../i18n');
    const { ApiError } = await import('../lib/api');
    const { GatewayError } = await import('../gateway/types');
    const before = getLocale();
    try {
      setLocale('en');
      const byThem = new ApiError(403, 'blocked', 'this person does not accept messages', undefined, undefined, {
        reason: 'blocked_by_them',
        params: {},
      });
      const byMe = new ApiError(403, 'blocked', 'you blocked this person', undefined, undefined, { reason: 'blocked_by_you' });
      expect(errText(byThem)).toBe('This person does not accept messages or calls from you.');
      expect(errText(byMe)).toBe('You blocked this person. Unblock them to write or call.');
      const over = { code: 'invalid_call_state', message: 'cannot hangup a call that is ended', reason: 'call_over', params: { action: 'hangup', status: 'ended' } };
      expect(errText(over)).toBe('This call is already over.');
      // An unknown reason: the code's sentence, as before reasons existed.
      expect(errText({ code: 'forbidden', message: 'x', reason: 'something_new', params: {} })).toBe('You are not allowed to do that.');
      setLocale('fr');
      const nack = new GatewayError('not_found', 'no such channel', undefined, { reason: 'channel_not_found', params: {} });
      expect(errText(nack)).toBe('Cette conversation n’existe pas ou ne vous appartient pas.');
      setLocale('ar');
      expect(errText({ code: 'invalid_request', message: 'a message needs text', reason: 'message_empty' })).toBe(
        'اكتب شيئًا أو أرفق ملفًا أولًا.',
      );
    } finally {
      setLocale(before);
    }
  });
});
