/**
 * The strangers screen's state (one immutable object, replaced on every change)
 * and the words derived from it. No behaviour here: ChatController drives it.
 */
import type { BanInfo, ChatMode, JoinQueue, PeerEndedReason } from '../../protocol';
import type { VideoState } from '../../lib/peer';
import type { MediaProblem, DeviceOption } from '../../media/devices';
import type { Quality, QualitySample } from '../quality';
import type { WidenKind } from '../widen';
import { t, type MessageKey } from '../../i18n';

export type Phase = 'idle' | 'connecting' | 'queued' | 'matched' | 'ended' | 'offline';
export type Screen = 'start' | 'chat' | 'banned';
export type EndReason = PeerEndedReason | 'lost';

export interface ChatLine {
  id: number;
  who: 'you' | 'stranger' | 'system';
  text: string;
}

/** The appeal form on the ban screen. */
export interface AppealState {
  status: 'idle' | 'sending' | 'done' | 'already' | 'error';
  error: string | null;
}

/** The CAPTCHA panel (null: hidden). */
export interface CaptchaState {
  /** waiting: told to verify, challenge not here yet; solving: proof-of-work running; verifying: solution sent. */
  status: 'waiting' | 'solving' | 'verifying' | 'error';
  error: string | null;
}

/** The partner's microphone/camera as relayed by `media-state` (null: not told yet). */
export interface PartnerMedia {
  audio: boolean;
  video: boolean;
  camera: 'ok' | 'none' | 'denied' | null;
}

/** One reaction on screen (sent or received); removed after a few seconds. */
export interface ShownReaction {
  id: number;
  emoji: string;
  from: 'you' | 'stranger';
}

export interface QueueCounts {
  online: number;
  waiting: number;
}

export interface ChatState {
  screen: Screen;
  mode: ChatMode;
  phase: Phase;
  endReason: EndReason | null;
  /** Auto-requeued after the partner left: why the last chat ended (shown while searching). */
  lastEnd: EndReason | null;
  /** Auto-requeue countdown (ms left) after the partner left; null: none running. */
  requeueInMs: number | null;
  offlineReason: string | null;
  peerReconnecting: boolean;
  selfReconnecting: boolean;
  videoState: VideoState | null;
  sessionId: string | null;
  /** Session that can still be reported (current or the one that just ended). */
  reportableSessionId: string | null;
  commonInterests: string[];
  lines: ChatLine[];
  strangerTyping: boolean;
  notice: string | null;
  /** Why there is no local camera/microphone (null: fine or not asked). */
  mediaError: MediaProblem | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  cameras: DeviceOption[];
  mics: DeviceOption[];
  cameraId: string | null;
  micId: string | null;
  ban: BanInfo | null;
  appeal: AppealState;
  captcha: CaptchaState | null;
  /** A moderator's warning (dismissible banner). */
  warning: string | null;
  /** The criteria the visitor is queued with (null before Start). */
  criteria: JoinQueue | null;
  /** Online/waiting counts from `queue-status`. */
  counts: QueueCounts | null;
  /** The visitor's own detected country (ISO code) from the server, if known. */
  myCountry: string | null;
  /** When the current wait started (ms, client clock) and the server's elapsed figure. */
  waitingSince: number | null;
  /** Criteria that still narrow the search (`queue-status.narrow`). */
  narrow: WidenKind[];
  /** `match-timeout` arrived: what could be dropped (null: no notice). */
  timeoutSuggest: WidenKind[] | null;
  /** When the current chat started (ms, client clock). */
  matchedAt: number | null;
  /** The partner's country (hidden or unknown: null). */
  partnerCountry: string | null;
  partnerMedia: PartnerMedia | null;
  quality: Quality | null;
  qualitySample: QualitySample | null;
  reactions: ShownReaction[];
  /** Esc pressed once: the next Esc skips. */
  escArmed: boolean;
  autoRequeue: boolean;
  /** Automatic moderation hid the partner's video (its reason, e.g. "nudity"); null: not hidden. */
  videoHidden: string | null;
  /** Automatic moderation hid OUR video from the partner (its reason); null: not flagged. */
  videoFlagged: string | null;
}

export interface StartOptions {
  mode: ChatMode;
  interests: string[];
  language?: string;
  /** "mine" or an explicit list of ISO codes; absent: anyone. */
  country?: 'any' | 'mine';
  countries?: string[];
  hideCountry?: boolean;
}

export const MAX_LINES = 500;
export const MAX_MESSAGE_CHARS = 1000;

export function initialState(): ChatState {
  return {
    screen: 'start',
    mode: 'video',
    phase: 'idle',
    endReason: null,
    lastEnd: null,
    requeueInMs: null,
    offlineReason: null,
    peerReconnecting: false,
    selfReconnecting: false,
    videoState: null,
    sessionId: null,
    reportableSessionId: null,
    commonInterests: [],
    lines: [],
    strangerTyping: false,
    notice: null,
    mediaError: null,
    localStream: null,
    remoteStream: null,
    micOn: true,
    camOn: true,
    cameras: [],
    mics: [],
    cameraId: null,
    micId: null,
    ban: null,
    appeal: { status: 'idle', error: null },
    captcha: null,
    warning: null,
    criteria: null,
    counts: null,
    myCountry: null,
    waitingSince: null,
    narrow: [],
    timeoutSuggest: null,
    matchedAt: null,
    partnerCountry: null,
    partnerMedia: null,
    quality: null,
    qualitySample: null,
    reactions: [],
    escArmed: false,
    autoRequeue: true,
    videoHidden: null,
    videoFlagged: null,
  };
}

/** What a new session (or a new search) resets: nothing of the last partner survives. */
export function sessionReset(): Partial<ChatState> {
  return {
    sessionId: null,
    endReason: null,
    peerReconnecting: false,
    strangerTyping: false,
    videoState: null,
    remoteStream: null,
    commonInterests: [],
    partnerCountry: null,
    partnerMedia: null,
    quality: null,
    qualitySample: null,
    reactions: [],
    matchedAt: null,
    escArmed: false,
    requeueInMs: null,
    videoHidden: null,
    videoFlagged: null,
  };
}

/** What survives Start and End: the warning, the choices, the camera (preview) and devices, counts. */
export function carriedOver(s: ChatState): Partial<ChatState> {
  return {
    warning: s.warning,
    autoRequeue: s.autoRequeue,
    localStream: s.localStream,
    micOn: s.micOn,
    camOn: s.camOn,
    cameras: s.cameras,
    mics: s.mics,
    cameraId: s.cameraId,
    micId: s.micId,
    myCountry: s.myCountry,
    counts: s.counts,
  };
}

const END_KEYS: Record<EndReason, MessageKey> = {
  skipped: 'end.skipped',
  ended: 'end.ended',
  disconnected: 'end.disconnected',
  banned: 'end.banned',
  lost: 'end.lost',
};

export function endText(r: EndReason): string {
  return t(END_KEYS[r] ?? 'end.ended');
}

const VIDEO_KEYS: Record<VideoState, MessageKey> = {
  connecting: 'status.video.connecting',
  connected: 'status.video.connected',
  reconnecting: 'status.video.reconnecting',
  failed: 'status.video.failed',
  closed: 'status.video.closed',
};

/** The words shown in data-testid="status". */
export function statusText(s: ChatState): string {
  if (s.captcha && (s.phase === 'connecting' || s.phase === 'queued')) return t('status.verifying');
  switch (s.phase) {
    case 'idle':
      return t('status.ready');
    case 'connecting':
      return s.selfReconnecting ? t('status.reconnecting') : t('status.connecting');
    case 'queued':
      if (s.selfReconnecting) return t('status.reconnecting');
      if (s.lastEnd) return t('wait.requeued', { reason: endText(s.lastEnd) });
      return t('status.looking');
    case 'matched': {
      if (s.peerReconnecting) return t('status.peerReconnecting');
      const base = s.selfReconnecting ? `${t('status.connected')} · ${t('status.reconnecting')}` : t('status.connected');
      if (s.mode === 'video' && s.videoState) return `${base} · ${t(VIDEO_KEYS[s.videoState])}`;
      return base;
    }
    case 'ended':
      return endText(s.endReason ?? 'ended');
    case 'offline':
      return s.offlineReason ?? t('status.disconnected');
  }
}
