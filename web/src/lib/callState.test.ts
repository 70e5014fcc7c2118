import { describe, expect, it } from 'vitest';
import { callReducer, callStatusText, initialCallState, type CallEvent, type CallState } from './callState';

const bob = { id: 'b'.repeat(32), displayName: 'Bob', avatarUrl: null };
const run = (events: CallEvent[], s: CallState = initialCallState()) => events.reduce(callReducer, s);
const accepted = (callId: string, initiator: boolean): CallEvent => ({
  type: 'accepted',
  data: { callId, sessionId: 's1', peerId: 'p1', initiator, media: 'video', iceServers: [{ urls: ['stun:x'] }] },
});

describe('callReducer — outgoing', () => {
  it('ringing → accepted → connected → ended', () => {
    let s = run([{ type: 'place', peer: bob, media: 'video' }]);
    expect(s.phase).toBe('placing');
    expect(callStatusText(s)).toBe('Ringing…');
    s = run([{ type: 'placed', callId: 'k1' }], s);
    expect(s).toMatchObject({ phase: 'outgoing', callId: 'k1', direction: 'outgoing' });
    // Events of other calls are ignored.
    expect(run([accepted('other', true)], s)).toBe(s);
    s = run([accepted('k1', true)], s);
    expect(s).toMatchObject({ phase: 'connecting', sessionId: 's1', initiator: true, iceServers: [{ urls: ['stun:x'] }] });
    expect(callStatusText(s)).toBe('Connecting…');
    s = run([{ type: 'media', state: 'connected' }], s);
    expect(callStatusText(s)).toBe('Connected');
    s = run([{ type: 'peer-reconnecting' }], s);
    expect(callStatusText(s)).toBe('Reconnecting…');
    s = run([{ type: 'peer-reconnected' }, { type: 'media', state: 'reconnecting' }], s);
    expect(callStatusText(s)).toBe('Reconnecting…');
    s = run([{ type: 'media', state: 'connected' }, { type: 'ended', callId: 'k1', reason: 'hangup' }], s);
    expect(s).toMatchObject({ phase: 'ended', endKind: 'ended', sessionId: null });
    expect(callStatusText(s)).toBe('Call ended');
    // A second call-ended is ignored; dismiss goes back to idle.
    expect(run([{ type: 'ended', callId: 'k1', reason: 'disconnected' }], s)).toBe(s);
    expect(run([{ type: 'dismiss' }], s).phase).toBe('idle');
  });

  it('rejected → Declined, missed → No answer, busy → Busy', () => {
    const ringing = run([{ type: 'place', peer: bob, media: 'audio' }, { type: 'placed', callId: 'k1' }]);
    expect(callStatusText(run([{ type: 'rejected', callId: 'k1' }], ringing))).toBe('Declined');
    expect(callStatusText(run([{ type: 'missed', callId: 'k1' }], ringing))).toBe('No answer');
    const busy = run([{ type: 'place', peer: bob, media: 'audio' }, { type: 'place-failed', code: 'busy', message: 'in another call' }]);
    expect(busy).toMatchObject({ phase: 'ended', endKind: 'busy' });
    expect(callStatusText(busy)).toBe('Busy');
  });

  it('other placing errors show the message and go idle', () => {
    const s = run([{ type: 'place', peer: bob, media: 'video' }, { type: 'place-failed', code: 'already_in_call', message: 'you are already in a call' }]);
    expect(s).toMatchObject({ phase: 'idle', error: 'you are already in a call' });
  });

  it('cancel while ringing → Cancelled; remote disconnect → Connection lost', () => {
    const ringing = run([{ type: 'place', peer: bob, media: 'video' }, { type: 'placed', callId: 'k1' }]);
    expect(callStatusText(run([{ type: 'cancel' }], ringing))).toBe('Cancelled');
    expect(callStatusText(run([{ type: 'hangup' }], ringing))).toBe('Cancelled');
    const live = run([accepted('k1', true), { type: 'media', state: 'connected' }], ringing);
    expect(callStatusText(run([{ type: 'ended', callId: 'k1', reason: 'disconnected' }], live))).toBe('Connection lost');
    expect(callStatusText(run([{ type: 'lost' }], live))).toBe('Connection lost');
    expect(callStatusText(run([{ type: 'hangup' }], live))).toBe('Call ended');
  });

  it('does not place a second call while one is active', () => {
    const s = run([{ type: 'place', peer: bob, media: 'video' }, { type: 'placed', callId: 'k1' }]);
    expect(run([{ type: 'place', peer: bob, media: 'audio' }], s)).toBe(s);
    expect(run([{ type: 'incoming', callId: 'k2', caller: bob, media: 'video' }], s)).toBe(s);
  });
});

describe('callReducer — incoming', () => {
  const ringing = run([{ type: 'incoming', callId: 'k1', caller: bob, media: 'audio' }]);

  it('incoming → answer → accepted (not initiator) → connected', () => {
    expect(ringing).toMatchObject({ phase: 'incoming', direction: 'incoming', media: 'audio', peer: bob });
    let s = run([{ type: 'answer' }], ringing);
    expect(callStatusText(s)).toBe('Connecting…');
    s = run([accepted('k1', false)], s);
    expect(s).toMatchObject({ phase: 'connecting', initiator: false, sessionId: 's1' });
  });

  it('answeredElsewhere stops ringing without a notice', () => {
    const s = run([{ type: 'accepted', data: { callId: 'k1', answeredElsewhere: true } }], ringing);
    expect(s).toMatchObject({ phase: 'idle', endKind: null, callId: null });
    // A session-less accept for a call we are not ringing for changes nothing.
    const idle = initialCallState();
    expect(run([{ type: 'accepted', data: { callId: 'k1', answeredElsewhere: true } }], idle)).toBe(idle);
  });

  it('rejected / missed on another device stop ringing; the caller cancelling shows Cancelled', () => {
    expect(run([{ type: 'rejected', callId: 'k1' }], ringing).phase).toBe('idle');
    expect(run([{ type: 'missed', callId: 'k1' }], ringing).phase).toBe('idle');
    const cancelled = run([{ type: 'ended', callId: 'k1', reason: 'cancelled' }], ringing);
    expect(callStatusText(cancelled)).toBe('Cancelled');
  });

  it('rejecting locally goes straight back to idle; answer failures show the message', () => {
    expect(run([{ type: 'reject' }], ringing).phase).toBe('idle');
    const failed = run([{ type: 'answer' }, { type: 'answer-failed', message: 'the caller is no longer connected' }], ringing);
    expect(failed).toMatchObject({ phase: 'idle', error: 'the caller is no longer connected' });
  });

  it('self reconnecting shows Reconnecting…', () => {
    const live = run([{ type: 'answer' }, accepted('k1', false), { type: 'media', state: 'connected' }], ringing);
    expect(callStatusText(run([{ type: 'self-reconnecting', on: true }], live))).toBe('Reconnecting…');
  });
});
