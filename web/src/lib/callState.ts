/**
 * State of one direct call (contacts product), as a pure reducer.
 *
 *   idle ─place─▶ placing ─placed─▶ outgoing ─accepted─▶ connecting ─media connected─▶ connected
 *   idle ─incoming─▶ incoming ─answer─▶ answering ─accepted─▶ connecting …
 *   any active phase ─hangup/cancel/rejected/missed/ended/lost─▶ ended (a notice with the reason)
 *
 * `answeredElsewhere`, or a reject / miss / cancel seen on another device of the
 * callee, just stops the ringing (back to idle, no notice).
 */
import type { CallAcceptedOut, IceServer, UserOut } from '../protocol';
import type { VideoState } from './peer';
import { t } from '../i18n';

export type CallMedia = 'video' | 'audio';

export type CallPhase = 'idle' | 'placing' | 'outgoing' | 'incoming' | 'answering' | 'connecting' | 'connected' | 'ended';

/** Why a call ended, as shown in `call-ended`. */
export type CallEndKind = 'ended' | 'no-answer' | 'declined' | 'busy' | 'cancelled' | 'lost';

const END_KEY = {
  ended: 'messenger.end.ended',
  'no-answer': 'messenger.end.noAnswer',
  declined: 'messenger.end.declined',
  busy: 'messenger.end.busy',
  cancelled: 'messenger.end.cancelled',
  lost: 'messenger.end.lost',
} as const;

/** The end notice in the UI language. */
export function callEndText(kind: CallEndKind): string {
  return t(END_KEY[kind]);
}

export interface CallState {
  phase: CallPhase;
  callId: string | null;
  direction: 'outgoing' | 'incoming' | null;
  /** The other person. */
  peer: UserOut | null;
  media: CallMedia;
  sessionId: string | null;
  peerId: string | null;
  initiator: boolean;
  iceServers: IceServer[];
  /** Media (ICE) state of the accepted call. */
  mediaState: VideoState | null;
  peerReconnecting: boolean;
  selfReconnecting: boolean;
  endKind: CallEndKind | null;
  /** An error to show (placing or answering failed for another reason than busy). */
  error: string | null;
}

export type CallEvent =
  | { type: 'place'; peer: UserOut; media: CallMedia }
  | { type: 'placed'; callId: string }
  | { type: 'place-failed'; code: string; message: string }
  | { type: 'incoming'; callId: string; caller: UserOut; media: CallMedia }
  | { type: 'answer' }
  | { type: 'answer-failed'; message: string }
  | { type: 'reject' }
  | { type: 'cancel' }
  | { type: 'hangup' }
  | { type: 'accepted'; data: CallAcceptedOut }
  | { type: 'rejected'; callId: string }
  | { type: 'missed'; callId: string }
  | { type: 'ended'; callId: string; reason: string }
  | { type: 'media'; state: VideoState }
  | { type: 'peer-reconnecting' }
  | { type: 'peer-reconnected' }
  | { type: 'self-reconnecting'; on: boolean }
  /** The gateway came back without our place: the call is gone. */
  | { type: 'lost' }
  | { type: 'dismiss' };

export function initialCallState(): CallState {
  return {
    phase: 'idle',
    callId: null,
    direction: null,
    peer: null,
    media: 'video',
    sessionId: null,
    peerId: null,
    initiator: false,
    iceServers: [],
    mediaState: null,
    peerReconnecting: false,
    selfReconnecting: false,
    endKind: null,
    error: null,
  };
}

const ACTIVE: ReadonlySet<CallPhase> = new Set(['placing', 'outgoing', 'incoming', 'answering', 'connecting', 'connected']);

export function isCallActive(s: CallState): boolean {
  return ACTIVE.has(s.phase);
}

/** A call-ended reason from the server in words. */
export function endKindForReason(reason: string): CallEndKind {
  switch (reason) {
    case 'missed':
    case 'timeout':
      return 'no-answer';
    case 'rejected':
    case 'declined':
      return 'declined';
    case 'busy':
      return 'busy';
    case 'cancelled':
    case 'caller_gone':
      return 'cancelled';
    case 'disconnected':
    case 'lost':
    case 'failed':
      return 'lost';
    default:
      return 'ended';
  }
}

function ended(s: CallState, kind: CallEndKind): CallState {
  return {
    ...s,
    phase: 'ended',
    endKind: kind,
    sessionId: null,
    peerId: null,
    iceServers: [],
    mediaState: null,
    peerReconnecting: false,
  };
}

function idle(s: CallState): CallState {
  return { ...initialCallState(), selfReconnecting: s.selfReconnecting };
}

export function callReducer(s: CallState, e: CallEvent): CallState {
  const mine = (callId: string) => s.callId !== null && callId === s.callId;
  switch (e.type) {
    case 'place':
      if (isCallActive(s)) return s;
      return { ...idle(s), phase: 'placing', direction: 'outgoing', peer: e.peer, media: e.media };
    case 'placed':
      if (s.phase !== 'placing') return s;
      return { ...s, phase: 'outgoing', callId: e.callId };
    case 'place-failed':
      if (s.phase !== 'placing') return s;
      if (e.code === 'busy') return ended(s, 'busy');
      return { ...idle(s), error: e.message || t('messenger.placeFailed') };
    case 'incoming':
      if (isCallActive(s)) return s; // the server says busy before this can happen
      return { ...idle(s), phase: 'incoming', direction: 'incoming', callId: e.callId, peer: e.caller, media: e.media };
    case 'answer':
      if (s.phase !== 'incoming') return s;
      return { ...s, phase: 'answering' };
    case 'answer-failed':
      if (s.phase !== 'answering') return s;
      return { ...idle(s), error: e.message || t('messenger.answerFailed') };
    case 'reject':
      if (s.phase !== 'incoming') return s;
      return idle(s);
    case 'cancel':
      if (s.phase !== 'placing' && s.phase !== 'outgoing') return s;
      return ended(s, 'cancelled');
    case 'hangup':
      if (!isCallActive(s)) return s;
      if (s.phase === 'placing' || s.phase === 'outgoing') return ended(s, 'cancelled');
      if (s.phase === 'incoming') return idle(s);
      return ended(s, 'ended');
    case 'accepted': {
      const d = e.data;
      if (!d || !mine(d.callId)) return s;
      if (d.answeredElsewhere) {
        // Another device of ours answered (or it is the other side's other device): stop ringing.
        if (s.phase === 'incoming' || s.phase === 'answering') return idle(s);
        return s;
      }
      if (s.phase !== 'outgoing' && s.phase !== 'answering') return s;
      if (!d.sessionId) return s;
      return {
        ...s,
        phase: 'connecting',
        sessionId: d.sessionId,
        peerId: d.peerId ?? null,
        initiator: Boolean(d.initiator),
        media: d.media === 'audio' || d.media === 'video' ? d.media : s.media,
        iceServers: Array.isArray(d.iceServers) ? d.iceServers : [],
        mediaState: 'connecting',
      };
    }
    case 'rejected':
      if (!mine(e.callId) || !isCallActive(s)) return s;
      if (s.direction === 'outgoing') return ended(s, 'declined');
      return idle(s); // declined on another of our devices
    case 'missed':
      if (!mine(e.callId) || !isCallActive(s)) return s;
      if (s.direction === 'outgoing') return ended(s, 'no-answer');
      return idle(s);
    case 'ended': {
      if (!mine(e.callId) || !isCallActive(s)) return s;
      const kind = endKindForReason(e.reason);
      if (s.direction === 'incoming' && (s.phase === 'incoming' || s.phase === 'answering')) {
        // The caller gave up before we answered.
        return ended(s, kind === 'ended' ? 'cancelled' : kind);
      }
      return ended(s, kind);
    }
    case 'media':
      if (s.phase !== 'connecting' && s.phase !== 'connected') return s;
      if (e.state === 'connected') return { ...s, phase: 'connected', mediaState: 'connected' };
      if (e.state === 'closed') return s;
      return { ...s, mediaState: e.state };
    case 'peer-reconnecting':
      if (s.phase !== 'connecting' && s.phase !== 'connected') return s;
      return { ...s, peerReconnecting: true };
    case 'peer-reconnected':
      return s.peerReconnecting ? { ...s, peerReconnecting: false } : s;
    case 'self-reconnecting':
      return s.selfReconnecting === e.on ? s : { ...s, selfReconnecting: e.on };
    case 'lost':
      if (!isCallActive(s)) return s;
      if (s.phase === 'incoming') return idle(s);
      return ended(s, 'lost');
    case 'dismiss':
      if (isCallActive(s)) return s.error ? { ...s, error: null } : s;
      return idle(s);
  }
}

/** The words shown in `call-status`. */
export function callStatusText(s: CallState): string {
  switch (s.phase) {
    case 'placing':
    case 'outgoing':
      return t('messenger.status.ringing');
    case 'incoming':
      return t('messenger.status.incoming');
    case 'answering':
    case 'connecting':
      if (s.peerReconnecting || s.selfReconnecting) return t('messenger.status.reconnecting');
      return t('messenger.status.connecting');
    case 'connected':
      if (s.peerReconnecting || s.selfReconnecting) return t('messenger.status.reconnecting');
      if (s.mediaState === 'reconnecting' || s.mediaState === 'failed') return t('messenger.status.reconnecting');
      return t('messenger.status.connected');
    case 'ended':
      return s.endKind ? callEndText(s.endKind) : t('messenger.end.ended');
    case 'idle':
      return '';
  }
}
