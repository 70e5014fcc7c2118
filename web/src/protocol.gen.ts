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
   * (ext) meet only people from these countries (ISO 3166-1 alpha-2)
   *
   * @maxItems 20
   */
  countries?: string[];
  /**
   * (ext) mine: add my own detected country to countries
   */
  country?: 'any' | 'mine';
  /**
   * (ext) never tell the partner my country
   */
  hideCountry?: boolean;
  /**
   * (ext) already waiting: replace the criteria, keep the place in the queue
   */
  update?: boolean;
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

/**
 * ``next``: skip, and with ``avoid`` never be matched with that person again.
 */
export interface NextIn {
  /**
   * (ext) never match me with the partner I leave (or of sessionId) again
   */
  avoid?: boolean;
  /**
   * (ext) with avoid after a peer-ended: the chat that ended
   */
  sessionId?: string | null;
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
  lossPct?: number | null;
  bitrateKbps?: number | null;
  /**
   * an ICE restart just began
   */
  restart?: boolean | null;
}

export interface CaptchaSolutionIn {
  payload: string;
}

export interface ChannelTypingIn {
  channelId: string;
  active: boolean;
}

/**
 * ``queue-status`` from the client: the counts now (cheap, cached).
 */
export interface QueueStatusIn {
  /**
   * count this mode (default: mine while waiting, else all)
   */
  mode?: ('video' | 'text') | null;
}

/**
 * (ext) My microphone and camera, for the partner's screen ("muted", "no camera").
 */
export interface MediaStateIn {
  /**
   * my microphone track is sending
   */
  audio: boolean;
  /**
   * my camera track is sending
   */
  video: boolean;
  /**
   * ok, none (no camera), denied (permission refused)
   */
  camera?: ('ok' | 'none' | 'denied') | null;
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

/**
 * (ext) An emoji reaction to the partner, from :data:`REACTIONS` only.
 */
export interface SendReactionIn {
  emoji: '👍' | '👎' | '😂' | '❤️' | '😮' | '😢' | '👏' | '🔥' | '👋' | '🎉';
  /**
   * ignored (old clients)
   */
  peerId?: string | null;
}

export interface MessagesDeliveredIn {
  /**
   * @minItems 1
   * @maxItems 500
   */
  ids: string[];
}

export interface WelcomeOut {
  connectionId: string;
  resumeToken: string;
  heartbeatMs: number;
  resumed: boolean;
}

export type PongOut = Record<string, never>;

/**
 * Sent for a refused frame that carried no ``id`` (with an id, the ack carries the error):
 * the fields of a nack's ``error`` object, with ``retryAfterMs`` beside them.
 */
export interface ErrorOut {
  code: string;
  /**
   * English, for logs and as a fallback
   */
  message: string;
  /**
   * (ext) why, as a stable snake_case code, when `code` alone does not say it
   */
  reason?: string | null;
  /**
   * (ext) the reason's parameters (strings and integers; `{}` when none), sent with `reason`
   */
  params?: {
    [k: string]: string | number | undefined;
  } | null;
  /**
   * wait this long before the same request (`rate_limited`, `unavailable`, `overloaded`)
   */
  retryAfterMs?: number | null;
}

export interface RateLimitedOut {
  event: string;
  retryAfterMs: number;
}

export interface QueuedOut {
  since: number;
}

/**
 * ``matched.frameCheck``: how this visitor samples its own outgoing camera.
 *
 * Present only for video sessions when the operator enabled sampling and a
 * classifier is configured. The client sends one frame ``firstAfterMs`` after
 * its media starts, then one after each random (exponential, mean
 * ``meanIntervalMs``, clamped to a quarter..four times the mean) wait, scaled
 * to at most ``maxWidth`` pixels wide, as a JPEG of ``jpegQuality`` (0..1).
 */
export interface FrameCheck {
  firstAfterMs: number;
  meanIntervalMs: number;
  maxWidth: number;
  jpegQuality: number;
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
  /**
   * (ext) the partner's country, unless unknown or hidden
   */
  country?: string | null;
  /**
   * (ext) video sessions with frame checking on: how to sample my camera
   */
  frameCheck?: FrameCheck | null;
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

export interface AppealRoute {
  banId: string;
  token: string;
  url: string;
}

/**
 * (ext) The parameters of an automatic ban's ``reasonCode``.
 */
export interface BanReasonParams {
  /**
   * auto_reported: distinct reporters
   */
  reporters?: number | null;
  /**
   * auto_frame_check: the classifier's label
   */
  label?: string | null;
  /**
   * auto_frame_check: its score, e.g. 0.93
   */
  score?: string | null;
}

export interface BannedOut {
  until: string | null;
  /**
   * as staff typed it; English for an automatic ban
   */
  reason: string;
  appeal: AppealRoute;
  /**
   * (ext) an automatic ban's reason as a code, for the client to say
   */
  reasonCode?: ('auto_reported' | 'auto_frame_check') | null;
  /**
   * (ext) the reason's parameters
   */
  reasonParams?: BanReasonParams | null;
}

export interface AltchaChallenge {
  parameters: AltchaParameters;
  signature: string | null;
}

/**
 * ALTCHA v2 challenge parameters (as the ``altcha`` library serialises them).
 */
export interface AltchaParameters {
  algorithm: string;
  nonce: string;
  salt: string;
  cost: number;
  keyLength: number;
  keyPrefix: string;
  keySignature?: string | null;
  memoryCost?: number | null;
  parallelism?: number | null;
  expiresAt?: number | null;
}

export interface CaptchaRequiredOut {
  challenge: AltchaChallenge;
}

/**
 * The ``warning`` event a moderator's warning reaches the visitor as.
 */
export interface WarningOut {
  message: string;
}

export interface AttachmentOut {
  id: string;
  url: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface ReactionSummary {
  emoji: string;
  userIds: string[];
}

/**
 * A short quote of the message replied to (ext).
 */
export interface ReplyQuote {
  id: string;
  senderId: string;
  /**
   * cut to 200 characters; empty when deleted
   */
  text: string;
  hasAttachment: boolean;
  deleted: boolean;
}

export interface ChannelMessageOut {
  id: string;
  channelId: string;
  seq: number;
  senderId: string;
  text: string;
  attachment: AttachmentOut | null;
  clientId: string;
  createdAt: string;
  deliveredAt: string | null;
  reactions: ReactionSummary[];
  /**
   * (ext) read by the recipient
   */
  readAt?: string | null;
  /**
   * (ext) last edited
   */
  editedAt?: string | null;
  /**
   * (ext) a tombstone since
   */
  deletedAt?: string | null;
  /**
   * (ext) the quoted message
   */
  replyTo?: ReplyQuote | null;
}

export interface ChannelTypingOut {
  channelId: string;
  userId: string;
  active: boolean;
  /**
   * treat as inactive after this long without a refresh
   */
  ttlMs: number;
}

export interface MessageReactionOut {
  messageId: string;
  channelId: string;
  userId: string;
  emoji: string;
  action: 'added' | 'removed';
}

export interface UserOut {
  id: string;
  displayName: string;
  avatarUrl: string | null;
}

export interface IncomingCallOut {
  callId: string;
  caller: UserOut;
  media: 'video' | 'audio';
}

/**
 * Session details for the two connections carrying the call.
 *
 * Every other device of either user gets only ``answeredElsewhere`` (stop ringing).
 */
export interface CallAcceptedOut {
  callId: string;
  answeredElsewhere?: boolean;
  sessionId?: string | null;
  peerId?: string | null;
  initiator?: boolean | null;
  media?: ('video' | 'audio') | null;
  iceServers?: IceServer[] | null;
}

export interface CallRejectedOut {
  callId: string;
}

export interface CallEndedOut {
  callId: string;
  reason: string;
}

export interface CallMissedOut {
  callId: string;
}

/**
 * ``queue-status`` pushed to a waiting visitor every few seconds.
 */
export interface QueueStatusOut {
  /**
   * sockets connected, all nodes
   */
  online: number;
  /**
   * visitors waiting in my mode, me included
   */
  waiting: number;
  /**
   * since I started waiting
   */
  elapsedMs: number;
  /**
   * my criteria that still restrict whom I meet
   */
  narrow: ('language' | 'country' | 'interests')[];
}

/**
 * Sent once per wait after CONNECT_MATCH_TIMEOUT_S; the visitor stays queued.
 */
export interface MatchTimeoutOut {
  waitedMs: number;
  /**
   * criteria the visitor could drop
   */
  suggest: ('language' | 'country' | 'interests')[];
}

export interface MediaStateOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  audio: boolean;
  video: boolean;
  camera?: ('ok' | 'none' | 'denied') | null;
}

export interface ReactionOut {
  /**
   * the sender's per-session peerId
   */
  from: string;
  emoji: '👍' | '👎' | '😂' | '❤️' | '😮' | '😢' | '👏' | '🔥' | '👋' | '🎉';
}

/**
 * One person's presence; also the payload of the ``presence`` push.
 */
export interface PresenceOut {
  userId: string;
  online: boolean;
  lastSeenAt: string | null;
}

export interface MessageReceiptOut {
  channelId: string;
  /**
   * who received or read
   */
  userId: string;
  status: 'delivered' | 'read';
  at: string;
  messageIds?: string[] | null;
  upToSeq?: number | null;
}

export interface MessageEditedOut {
  id: string;
  channelId: string;
  seq: number;
  senderId: string;
  text: string;
  attachment: AttachmentOut | null;
  clientId: string;
  createdAt: string;
  deliveredAt: string | null;
  reactions: ReactionSummary[];
  /**
   * (ext) read by the recipient
   */
  readAt?: string | null;
  /**
   * (ext) last edited
   */
  editedAt?: string | null;
  /**
   * (ext) a tombstone since
   */
  deletedAt?: string | null;
  /**
   * (ext) the quoted message
   */
  replyTo?: ReplyQuote | null;
}

export interface MessageDeletedOut {
  messageId: string;
  channelId: string;
  seq: number;
  deletedAt: string;
}

export interface ChannelMessage {
  id: string;
  channelId: string;
  seq: number;
  senderId: string;
  text: string;
  attachment: AttachmentOut | null;
  clientId: string;
  createdAt: string;
  deliveredAt: string | null;
  reactions: ReactionSummary[];
  /**
   * (ext) read by the recipient
   */
  readAt?: string | null;
  /**
   * (ext) last edited
   */
  editedAt?: string | null;
  /**
   * (ext) a tombstone since
   */
  deletedAt?: string | null;
  /**
   * (ext) the quoted message
   */
  replyTo?: ReplyQuote | null;
}

export interface ChannelCreatedOut {
  id: string;
  peer: UserOut;
  createdAt: string;
  lastMessage: ChannelMessage | null;
  unreadCount: number;
  /**
   * (ext) you blocked this peer
   */
  blocked?: boolean;
}

/**
 * ``video-hidden``: the partner's frame was classified above the action threshold.
 *
 * The client blurs the partner's video at once, tells the visitor why and
 * offers Next. Sent to the partner of the visitor whose frame was flagged.
 */
export interface VideoHiddenOut {
  sessionId: string;
  reason: 'nudity';
}

/**
 * ``video-flagged``: your own frame was classified above the action threshold;
 * your partner no longer sees your video in this session.
 */
export interface VideoFlaggedOut {
  sessionId: string;
  reason: 'nudity';
}

/**
 * A refusal's ``error`` object in a nack (and in REST error replies).
 */
export interface ErrorDetail {
  code: string;
  /**
   * English, for logs and as a fallback
   */
  message: string;
  /**
   * (ext) why, as a stable snake_case code, when `code` alone does not say it
   */
  reason?: string | null;
  /**
   * (ext) the reason's parameters (strings and integers; `{}` when none), sent with `reason`
   */
  params?: {
    [k: string]: string | number | undefined;
  } | null;
}

/**
 * The ack of a refused request frame (one that carried an ``id``):
 * ``{"ack": id, "ok": false, "error": {...}, "retryAfterMs"?}``.
 */
export interface Nack {
  ack: number;
  ok: false;
  error: ErrorDetail;
  /**
   * wait this long before the same request (`rate_limited`, `unavailable`, `overloaded`)
   */
  retryAfterMs?: number | null;
}

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
  'captcha-solution': CaptchaSolutionIn;
  'channel-typing': ChannelTypingIn;
  'queue-status': QueueStatusIn;
  'media-state': MediaStateIn;
  'send-reaction': SendReactionIn;
  'messages-delivered': MessagesDeliveredIn;
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
  'banned': BannedOut;
  'captcha-required': CaptchaRequiredOut;
  'warning': WarningOut;
  'channel-message': ChannelMessageOut;
  'channel-typing': ChannelTypingOut;
  'message-reaction': MessageReactionOut;
  'incoming-call': IncomingCallOut;
  'call-accepted': CallAcceptedOut;
  'call-rejected': CallRejectedOut;
  'call-ended': CallEndedOut;
  'call-missed': CallMissedOut;
  'queue-status': QueueStatusOut;
  'match-timeout': MatchTimeoutOut;
  'media-state': MediaStateOut;
  'reaction': ReactionOut;
  'presence': PresenceOut;
  'message-receipt': MessageReceiptOut;
  'message-edited': MessageEditedOut;
  'message-deleted': MessageDeletedOut;
  'channel-created': ChannelCreatedOut;
  'video-hidden': VideoHiddenOut;
  'video-flagged': VideoFlaggedOut;
}
