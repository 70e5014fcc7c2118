// generated from protocol.schema.json by scripts/gen-protocol.mjs — do not edit

export interface HelloIn {
  token: string;
  resume?: string | null;
}

export type PingIn = Record<string, never>;

export interface JoinQueueIn {
  mode: 'video' | 'text';
  language?: string | null;
  region?: string | null;
  /**
   * @maxItems 10
   */
  interests?: string[];
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface LeaveQueueIn {
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface NextIn {
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface SessionDescription {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp: string;
}

export interface SendOfferIn {
  offer: SessionDescription;
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface SendAnswerIn {
  answer: SessionDescription;
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface SendCandidateIn {
  candidate: IceCandidate | null;
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface SendMessageIn {
  text: string;
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface TypingIn {
  active: boolean;
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface EndCallIn {
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface CallStatsIn {
  iceState: 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';
  candidateType?: ('host' | 'srflx' | 'prflx' | 'relay') | null;
  rttMs?: number | null;
}

export interface WelcomeOut {
  connectionId: string;
  resumeToken: string;
  heartbeatMs: number;
  resumed: boolean;
}

export type PongOut = Record<string, never>;

/**
 * Sent for a refused frame that carried no ``id`` (with an id, the ack carries the error).
 */
export interface ErrorOut {
  code: string;
  message: string;
  retryAfterMs?: number | null;
}

export interface RateLimitedOut {
  event: string;
  retryAfterMs: number;
}

export interface QueuedOut {
  since: number;
}

export interface IceServer {
  urls: string[];
  username?: string | null;
  credential?: string | null;
}

export interface MatchedOut {
  sessionId: string;
  peerId: string;
  initiator: boolean;
  mode: 'video' | 'text';
  commonInterests: string[];
  iceServers: IceServer[];
}

export interface OfferOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  offer: SessionDescription;
}

export interface AnswerOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  answer: SessionDescription;
}

export interface CandidateOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  candidate: IceCandidate | null;
}

export interface MessageOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  text: string;
  /**
   * server time, ms since the epoch
   */
  ts: number;
}

export interface TypingOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  active: boolean;
}

export interface PeerEndedOut {
  reason: 'ended' | 'skipped' | 'disconnected' | 'banned';
}

export type PeerReconnectingOut = Record<string, never>;

export type PeerReconnectedOut = Record<string, never>;

/** Client → server events: event name → payload (`x-client-events`). */
export interface ClientEvents {
  'hello': HelloIn;
  'ping': PingIn;
  'join-queue': JoinQueueIn;
  'leave-queue': LeaveQueueIn;
  'next': NextIn;
  'send-offer': SendOfferIn;
  'send-answer': SendAnswerIn;
  'send-candidate': SendCandidateIn;
  'send-message': SendMessageIn;
  'typing': TypingIn;
  'end-call': EndCallIn;
  'call-stats': CallStatsIn;
}

/** Server → client events: event name → payload (`x-server-events`). */
export interface ServerEvents {
  'welcome': WelcomeOut;
  'pong': PongOut;
  'error': ErrorOut;
  'rate-limited': RateLimitedOut;
  'queued': QueuedOut;
  'matched': MatchedOut;
  'offer': OfferOut;
  'answer': AnswerOut;
  'candidate': CandidateOut;
  'message': MessageOut;
  'typing': TypingOut;
  'peer-ended': PeerEndedOut;
  'peer-reconnecting': PeerReconnectingOut;
  'peer-reconnected': PeerReconnectedOut;
}
