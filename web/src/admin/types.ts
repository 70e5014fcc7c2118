/** REST types of the moderation API (/api/auth/*, /api/admin/*). All JSON camelCase. */

export type Role = 'user' | 'moderator' | 'admin';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface Account {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  createdAt: string;
}

export interface Stats {
  connections: number;
  waiting: { video: number; text: number };
  liveSessions: number;
  matchesPerMinute: number;
  reportsPending: number;
  activeBans: number;
  appealsPending: number;
  /** Connect's probe of each configured TURN/STUN URL (empty: none configured yet). */
  turn?: TurnStatus[];
}

export interface TurnStatus {
  url: string;
  kind: 'stun' | 'turn';
  up: boolean;
  reason: 'ok' | 'auth_failed' | 'unreachable' | 'rejected' | 'error';
  detail: string;
  latencyMs: number | null;
  checkedAt: string;
}

export interface LiveMember {
  peerId: string;
  subject: string;
  ipHash: string;
}

export interface LiveSession {
  id: string;
  mode: 'video' | 'text';
  startedAt: string;
  durationS: number;
  commonInterests: string[];
  messages: number;
  members: LiveMember[];
}

export type BanScope = 'device' | 'ip' | 'account';

export interface Ban {
  id: string;
  scope: BanScope;
  value: string;
  reason: string;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  liftedAt: string | null;
  liftedBy: string | null;
  reportId: string | null;
  automatic: boolean;
  active: boolean;
  /** (ext) An automatic ban's reason as a code with parameters; `reason` is its English. */
  reasonCode?: string;
  reasonParams?: Record<string, string | number>;
}

export interface Flag {
  kind: string;
  detail: string;
  createdAt: string;
}

export type ReportStatus = 'pending' | 'accepted' | 'rejected';

export interface TranscriptLine {
  from: string;
  text: string;
  ts: string | number;
  /** (conversation reports) the message's id, and whether it is the reported one. */
  messageId?: string;
  reported?: boolean;
}

export interface Report {
  id: string;
  sessionId: string | null;
  reason: string;
  comment: string | null;
  status: ReportStatus;
  createdAt: string;
  reporter: { subject: string; ipHash: string };
  reported: { subject: string; kind: 'guest' | 'access'; ipHash: string };
  reportedPeerId?: string | null;
  session: { mode: 'video' | 'text' | 'contacts'; startedAt: string; endedAt: string | null; durationS: number | null; commonInterests: string[] };
  transcript: TranscriptLine[] | null;
  hasEvidence: boolean;
  resolution: { action: string; note: string | null; at: string; by: string } | null;
  history: { reports: Array<{ id: string; reason: string; status: ReportStatus; createdAt: string }>; bans: Ban[]; flags: Flag[] };
  reporterFlags: Flag[];
  /** (ext) where the report was filed: a stranger session, a contacts conversation, or auto (the frame classifier). */
  source?: 'session' | 'conversation' | 'auto';
  /** (auto) the classifier's scores by label, 0..1. */
  scores?: Record<string, number> | null;
  /** (auto) a moderator marked the automatic report wrong. */
  falsePositive?: boolean;
  channelId?: string | null;
  messageId?: string | null;
  messageExcerpt?: string | null;
  reportedAccount?: { id: string; displayName: string | null } | null;
}

export interface ResolveBody {
  action: 'accept' | 'reject';
  ban?: { durationHours: number | null; scope: BanScope[] };
  note?: string;
}

export interface Appeal {
  id: string;
  banId: string;
  text: string;
  status: 'pending' | 'accepted' | 'rejected';
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  ban: Ban;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  prevHash: string;
  hash: string;
}

export interface AuditVerify {
  ok: boolean;
  checked: number;
  firstBrokenSeq: number | null;
  problem: string | null;
  headHash: string;
}
