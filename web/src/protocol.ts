/**
 * Payload types of the strangers strand of the realtime gateway
 * (see PROTOCOL.md, "Realtime gateway"). All keys camelCase.
 */

export type ChatMode = 'video' | 'text';

export interface SessionDescriptionPayload {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp: string;
}

export interface CandidatePayload {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type CandidateType = 'host' | 'srflx' | 'relay';

export type PeerEndedReason = 'ended' | 'skipped' | 'disconnected' | 'banned';

// ------------------------------------------------------------ client → server

export interface JoinQueue {
  mode: ChatMode;
  language?: string;
  region?: string;
  interests?: string[];
}
export type LeaveQueue = Record<string, never>;
/** Ends the current session (partner: peer-ended "skipped") or, outside a session, (re)enters the queue with the last criteria. */
export type Next = Record<string, never>;
export interface SendOffer {
  offer: SessionDescriptionPayload & { type: 'offer' };
}
export interface SendAnswer {
  answer: SessionDescriptionPayload & { type: 'answer' };
}
export interface SendCandidate {
  candidate: CandidatePayload;
}
export interface SendMessage {
  text: string;
}
export interface Typing {
  active: boolean;
}
export type EndCall = Record<string, never>;
export interface CallStats {
  iceState: string;
  candidateType: CandidateType;
  rttMs?: number;
}

export interface ClientEvents {
  'join-queue': JoinQueue;
  'leave-queue': LeaveQueue;
  next: Next;
  'send-offer': SendOffer;
  'send-answer': SendAnswer;
  'send-candidate': SendCandidate;
  'send-message': SendMessage;
  typing: Typing;
  'end-call': EndCall;
  'call-stats': CallStats;
}

/** Ack of join-queue. */
export interface JoinQueueAck {
  ok: true;
  queued: true;
}

// ------------------------------------------------------------ server → client

export interface Queued {
  since: number;
}
export interface Matched {
  sessionId: string;
  peerId: string;
  initiator: boolean;
  mode: ChatMode;
  commonInterests: string[];
  iceServers: IceServer[];
}
export interface OfferEvent {
  from: string;
  offer: SessionDescriptionPayload;
}
export interface AnswerEvent {
  from: string;
  answer: SessionDescriptionPayload;
}
export interface CandidateEvent {
  from: string;
  candidate: CandidatePayload;
}
export interface MessageEvent {
  from: string;
  text: string;
  ts: number | string;
}
export interface TypingEvent {
  from: string;
  active: boolean;
}
export interface PeerEnded {
  reason: PeerEndedReason;
}
export type PeerReconnecting = Record<string, never>;
export type PeerReconnected = Record<string, never>;
export interface RateLimited {
  event: string;
  retryAfterMs: number;
}
export interface Banned {
  /** ISO date-time or epoch ms; null/absent for a permanent ban. */
  until: string | number | null;
  reason: string;
  /** How to appeal (URL, appeal token or text). */
  appeal: unknown;
}
export interface ErrorEvent {
  code: string;
  message: string;
}
export interface CaptchaRequired {
  challenge: unknown;
}

export interface ServerEvents {
  queued: Queued;
  matched: Matched;
  offer: OfferEvent;
  answer: AnswerEvent;
  candidate: CandidateEvent;
  message: MessageEvent;
  typing: TypingEvent;
  'peer-ended': PeerEnded;
  'peer-reconnecting': PeerReconnecting;
  'peer-reconnected': PeerReconnected;
  'rate-limited': RateLimited;
  banned: Banned;
  error: ErrorEvent;
  'captcha-required': CaptchaRequired;
}

/** REST error body. */
export interface ApiErrorBody {
  error: { code: string; message: string };
  retryAfterMs?: number;
}

export const REPORT_REASONS = ['nudity', 'harassment', 'spam', 'underage', 'violence', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
