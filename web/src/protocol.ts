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
  BannedOut,
  CaptchaRequiredOut,
  CaptchaSolutionIn,
  WarningOut,
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
// no schema export yet, and `banned` / `captcha-required` / `warning` /
// `captcha-solution` are written by hand until the lead moves them into the
// generated schema (then alias BannedOut etc. here). Keep this list
// short; once the server describes one of these, alias the generated type.

/** Ack of join-queue (server: matching.schemas.JoinAck). */
export interface JoinQueueAck {
  ok: true;
  queued: boolean;
}

/** How a banned visitor appeals (part of `banned` and of the 403 `banned` REST error). */
export type AppealRoute = BannedOut['appeal'];

/** Server event `banned` (sent right before the 4003 close); also the `ban` of a 403 from POST /api/auth/token. */
export type Banned = BannedOut;

/** What the ban screen knows: a bare 4003 close carries no details, hence a nullable appeal. */
export type BanInfo = Omit<BannedOut, 'appeal'> & { appeal: BannedOut['appeal'] | null };

/** Server event `captcha-required`: an ALTCHA v2 challenge, solved by lib/captcha.ts. */
export type CaptchaRequired = CaptchaRequiredOut;

/** Client event `captcha-solution`: base64 of JSON `{challenge, solution: {counter, derivedKey}}` (acked). */
export type CaptchaSolution = CaptchaSolutionIn;

/** Server event `warning`: a moderator's warning, shown as a dismissible banner. */
export type Warning = WarningOut;

/** POST /api/appeals → 201. */
export interface AppealCreated {
  id: string;
  status: string;
}

/** REST error body. */
export interface ApiErrorBody {
  /**
   * `message` is English, a fallback. **(ext)** `reason` + `params`: why, as a stable code
   * for the catalogue, when `code` alone is generic (a 400 `invalid_request`).
   */
  error: { code: string; message: string; reason?: string; params?: Record<string, string | number> };
  retryAfterMs?: number;
  /** With 403 `banned` (POST /api/auth/token). */
  ban?: Banned;
}

/** Report reasons offered by the UI (POST /api/reports). */
export const REPORT_REASONS = ['nudity', 'harassment', 'spam', 'underage', 'violence', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
