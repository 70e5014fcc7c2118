/**
 * Payload types of the realtime gateway (see docs/protocol.md). All keys camelCase.
 *
 * The wire types are GENERATED from the server's pydantic schemas:
 *   make protocol            (server → src/protocol.schema.json)
 *   npm run gen:protocol     (src/protocol.schema.json → src/protocol.gen.ts)
 * `npm test` fails when protocol.gen.ts is out of date. This file only gives
 * the generated types the names the app uses; do not hand-write wire types here.
 */

import type {
  AnswerOut,
  CallStatsIn,
  CandidateOut,
  EndCallIn,
  ErrorOut,
  IceCandidate,
  JoinQueueIn,
  LeaveQueueIn,
  MatchedOut,
  MessageOut,
  NextIn,
  OfferOut,
  PeerEndedOut,
  PeerReconnectedOut,
  PeerReconnectingOut,
  QueuedOut,
  RateLimitedOut,
  SendAnswerIn,
  SendCandidateIn,
  SendMessageIn,
  SendOfferIn,
  SessionDescription,
  TypingIn,
  TypingOut,
} from './protocol.gen';

export type * from './protocol.gen';

// ------------------------------------------------------------ shared

export type ChatMode = JoinQueueIn['mode'];
export type SessionDescriptionPayload = SessionDescription;
export type CandidatePayload = IceCandidate;
/** Local candidate type of the selected pair, as reported in call-stats. */
export type CandidateType = NonNullable<CallStatsIn['candidateType']>;
export type PeerEndedReason = PeerEndedOut['reason'];

// ------------------------------------------------------------ client → server

export type JoinQueue = JoinQueueIn;
export type LeaveQueue = LeaveQueueIn;
/** Ends the current session (partner: peer-ended "skipped") or, outside a session, (re)enters the queue with the last criteria. */
export type Next = NextIn;
export type SendOffer = SendOfferIn;
export type SendAnswer = SendAnswerIn;
export type SendCandidate = SendCandidateIn;
export type SendMessage = SendMessageIn;
export type Typing = TypingIn;
export type EndCall = EndCallIn;
export type CallStats = CallStatsIn;

// ------------------------------------------------------------ server → client

export type Queued = QueuedOut;
export type Matched = MatchedOut;
export type OfferEvent = OfferOut;
export type AnswerEvent = AnswerOut;
export type CandidateEvent = CandidateOut;
export type MessageEvent = MessageOut;
export type TypingEvent = TypingOut;
export type PeerEnded = PeerEndedOut;
export type PeerReconnecting = PeerReconnectingOut;
export type PeerReconnected = PeerReconnectedOut;
export type RateLimited = RateLimitedOut;
export type ErrorEvent = ErrorOut;

// ------------------------------------------------------------ hand-written
//
// Not in protocol.schema.json, so there is nothing to generate them from:
// acks are not part of the schema (only event payloads are), the REST API has
// no schema export yet, and `banned` / `captcha-required` are not events the
// current server sends (a ban arrives as close code 4003). Keep this list
// short; once the server describes one of these, alias the generated type.

/** Ack of join-queue (server: matching.schemas.JoinAck). */
export interface JoinQueueAck {
  ok: true;
  queued: boolean;
}

/** Listened for by the app; not in x-server-events. */
export interface Banned {
  /** ISO date-time or epoch ms; null/absent for a permanent ban. */
  until: string | number | null;
  reason: string;
  /** How to appeal (URL, appeal token or text). */
  appeal: unknown;
}

/** Listened for by the app; not in x-server-events. */
export interface CaptchaRequired {
  challenge: unknown;
}

/** REST error body. */
export interface ApiErrorBody {
  error: { code: string; message: string };
  retryAfterMs?: number;
}

/** Report reasons offered by the UI (POST /api/reports). */
export const REPORT_REASONS = ['nudity', 'harassment', 'spam', 'underage', 'violence', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
