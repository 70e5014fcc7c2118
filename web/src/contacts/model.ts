/**
 * The contacts product's data shapes outside React: the store's state, the
 * REST shapes it keeps (channels, call records, blocks, devices) and small pure
 * helpers shared by the controller parts (store → messaging → sync → calls → callMedia).
 */
import type { UserOut } from '../protocol';
import type { Account, AuthStore } from '../lib/auth';
import { initialCallState, type CallMedia, type CallState } from '../lib/callState';
import type { WebSocketCtor } from '../gateway/client';
import type { Message, SendFailure, UiMessage } from '../lib/messages';
import type { Quality, QualitySample } from '../strangers/quality';
import type { DeviceOption } from '../media/devices';
import { hasKey, t, type MessageKey } from '../i18n';

export interface Channel {
  id: string;
  peer: UserOut;
  createdAt: string;
  lastMessage: Message | null;
  unreadCount: number;
  /** You blocked this peer (the server refuses messages and calls both ways). */
  blocked?: boolean;
}

export interface BlockedUser {
  user: UserOut;
  createdAt: string;
}

export const REPORT_REASONS = ['harassment', 'spam', 'nudity', 'violence', 'underage', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

export interface ConversationReport {
  channelId: string;
  /** One of the other member's messages; omitted to report the person. */
  messageId?: string;
  reason: ReportReason;
  comment?: string;
}

export interface CallRecord {
  callId: string;
  status: 'ringing' | 'accepted' | 'rejected' | 'cancelled' | 'missed' | 'ended' | 'busy';
  caller: UserOut;
  callee: UserOut;
  media: CallMedia;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  durationS: number | null;
  /** (ext) Summary of both sides' call-stats samples; null until one arrived. */
  quality?: CallQualitySummary | null;
}

/** The call record's quality summary (calls/schemas.py CallQuality). */
export interface CallQualitySummary {
  samples: number;
  rttMsAvg: number | null;
  rttMsMax: number | null;
  lossPctAvg: number | null;
  lossPctMax: number | null;
  bitrateKbpsAvg: number | null;
  candidateTypes: string[];
}

/** One person's presence as the server pushes it. */
export interface PresenceInfo {
  online: boolean;
  lastSeenAt: string | null;
}

/** One of my signed-in devices (GET /api/auth/sessions). */
export interface MySession {
  id: string;
  createdAt: string;
  lastUsedAt: string | null;
  browser?: string | null;
  current?: boolean;
}

/** Search inside the open conversation (server-side). */
export interface ConversationSearch {
  channelId: string;
  query: string;
  results: Message[];
  busy: boolean;
  nextBefore: number | null;
}

export type AuthPhase = 'checking' | 'loggedOut' | 'loggedIn' | 'error';

export interface ContactsState {
  auth: AuthPhase;
  me: Account | null;
  myAvatarUrl: string | null;
  authBusy: boolean;
  authError: ErrorNote | null;
  profileNotice: string | null;
  gateway: 'offline' | 'connecting' | 'ready' | 'reconnecting';
  channels: Channel[];
  channelsLoaded: boolean;
  searchQuery: string;
  searchResults: UserOut[];
  searching: boolean;
  openChannelId: string | null;
  messages: Record<string, UiMessage[]>;
  loadingChannel: string | null;
  /** channelId → userId typing (hidden after ttlMs without a refresh). */
  typing: Record<string, string>;
  uploading: boolean;
  call: CallState;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  /** This side shares its screen instead of the camera. */
  sharing: boolean;
  /** The other side sends video (a video call, or an audio call they upgraded). */
  remoteVideo: boolean;
  /** I added my camera to an audio call. */
  upgraded: boolean;
  /** Cameras and microphones to switch to mid-call (listed once a call runs). */
  devices: { cameras: DeviceOption[]; mics: DeviceOption[] };
  /** Connection quality of the call (the strangers app's measure), null until measured. */
  quality: Quality | null;
  qualitySample: QualitySample | null;
  /** Date.now() when the call's media first connected (the timer). */
  connectedAt: number | null;
  mediaError: string | null;
  history: CallRecord[];
  /** People you blocked (GET /api/blocks), newest first. */
  blocks: BlockedUser[];
  /** userId → online / last seen. */
  presence: Record<string, PresenceInfo>;
  /** Who may see my presence. */
  presenceVisibility: 'contacts' | 'nobody' | null;
  /** Conversations muted on this device. */
  muted: string[];
  /** Browser notification permission ('unsupported' without the API). */
  notifyPermission: NotificationPermission | 'unsupported';
  convSearch: ConversationSearch | null;
  /** My signed-in devices (null until loaded; 'unavailable' when the server lacks the route). */
  sessions: MySession[] | null;
  /** The last error of an action (shown in `contacts-error`). */
  error: ErrorNote | null;
}

export function initialContactsState(): ContactsState {
  return {
    auth: 'checking',
    me: null,
    myAvatarUrl: null,
    authBusy: false,
    authError: null,
    profileNotice: null,
    gateway: 'offline',
    channels: [],
    channelsLoaded: false,
    searchQuery: '',
    searchResults: [],
    searching: false,
    openChannelId: null,
    messages: {},
    loadingChannel: null,
    typing: {},
    uploading: false,
    call: initialCallState(),
    localStream: null,
    remoteStream: null,
    micOn: true,
    camOn: true,
    sharing: false,
    quality: null,
    devices: { cameras: [], mics: [] },
    qualitySample: null,
    remoteVideo: false,
    upgraded: false,
    connectedAt: null,
    mediaError: null,
    history: [],
    blocks: [],
    presence: {},
    presenceVisibility: null,
    muted: [],
    notifyPermission: 'unsupported',
    convSearch: null,
    sessions: null,
    error: null,
  };
}

export interface ContactsDeps {
  auth?: AuthStore;
  WebSocketImpl?: WebSocketCtor;
  gatewayUrl?: () => string;
  getUserMedia?: (c: MediaStreamConstraints) => Promise<MediaStream>;
  getDisplayMedia?: (c: DisplayMediaStreamOptions) => Promise<MediaStream>;
  PeerConnectionImpl?: typeof RTCPeerConnection;
  /** Whether the page is visible (mark read only then). */
  isVisible?: () => boolean;
  createObjectURL?: (b: Blob) => string;
  /** Where mutes are kept (localStorage by default). */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
}

export const MAX_TEXT_CHARS = 4000;
export const REACTION_EMOJI = '👍';
/** The emoji picker's grid (any emoji is accepted by the server; these are one tap away). */
export const PICKER_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '🔥', '👏', '😍', '🤔', '👎'] as const;

export const enc = encodeURIComponent;

/**
 * A failed request or gateway error as a sentence in the user's language: the
 * server's reason (why, when several causes share a code: `messenger.err.reason.<reason>`
 * with its params, as the dashboard's errorMessage does), else its error code looked up
 * as `messenger.err.<code>` (the contacts codes), then `errors.<code>` (the codes both
 * apps share, as the strangers app does); an unknown code falls back to the server's
 * (English) message, then to a generic one. ApiError (REST) and GatewayError (a nack)
 * both carry `reason` and `params`.
 */
export function errText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; reason?: unknown; params?: unknown } | null;
  if (e && typeof e.reason === 'string') {
    const key = `messenger.err.reason.${e.reason}`;
    if (hasKey(key)) return t(key, reasonParams(e.params));
  }
  if (e && typeof e.code === 'string') {
    for (const key of [`messenger.err.${e.code}`, `errors.${e.code}`]) if (hasKey(key)) return t(key);
  }
  return (e && typeof e.message === 'string' && e.message) || t('errors.generic');
}

/**
 * An error as kept in the state: what the server said (code, reason, params; its English
 * message as the fallback) or a catalogue key of the app's own, translated only when shown,
 * so a language switch also reaches an error already on screen.
 */
export type ErrorNote = SendFailure | { key: MessageKey };

/** An error note in the language in use now. */
export function noteText(n: ErrorNote): string {
  return 'key' in n ? t(n.key) : errText(n);
}

/** What a failed send keeps of its error: enough to translate it later and to choose its action. */
export function sendFailure(err: unknown): SendFailure {
  const e = err as { status?: unknown; code?: unknown; message?: unknown; reason?: unknown; params?: unknown } | null;
  const out: SendFailure = { status: typeof e?.status === 'number' ? e.status : 0 };
  if (typeof e?.code === 'string') out.code = e.code;
  if (typeof e?.reason === 'string') {
    out.reason = e.reason;
    out.params = reasonParams(e.params);
  }
  if (typeof e?.message === 'string' && e.message) out.message = e.message;
  return out;
}

/**
 * What the user can do about a failed send: send it again when that can work (no
 * answer, a server error, a limit or an outage: they pass), unblock first when the
 * refusal is their own block (`blocked_by_you`; once unblocked, sending again works),
 * else nothing (refused for good: the other person blocked them, the conversation is
 * gone, the message is invalid), only the explanation.
 */
export function failureAction(f: SendFailure | undefined, peerBlocked: boolean): 'retry' | 'unblock' | 'none' {
  if (!f) return 'retry';
  if (f.reason === 'blocked_by_you') return peerBlocked ? 'unblock' : 'retry';
  if (f.status === 0 || f.status >= 500 || f.status === 429 || f.code === 'unavailable' || f.code === 'rate_limited')
    return 'retry';
  return 'none';
}

/** A reason's params as the catalogue takes them (strings and numbers only). */
function reasonParams(params: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!params || typeof params !== 'object') return out;
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}

export function stopStream(s: MediaStream | null): void {
  s?.getTracks().forEach((t) => t.stop());
}

export function revokeUrl(u: string): void {
  try {
    URL.revokeObjectURL(u);
  } catch {
    /* ignore */
  }
}

export function newer(a: Message | null, b: Message | null): Message | null {
  if (!a) return b;
  if (!b) return a;
  return b.seq >= a.seq ? b : a;
}

/** Most recent conversation first (by last message, else creation time). */
export function sortChannels(list: Channel[]): Channel[] {
  const key = (c: Channel) => c.lastMessage?.createdAt ?? c.createdAt ?? '';
  return [...list].sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}
