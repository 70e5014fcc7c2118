/**
 * The waiting part of the strangers controller: online/waiting counts (start
 * screen polling over an open socket, `queue-status` pushes while queued), the
 * `match-timeout` notice and its one-click widen (`join-queue` with
 * `update: true`), and the auto-requeue countdown after the partner left.
 */
import type { ChatMode } from '../../protocol';
import { parseWidenKinds, widenCriteria, type WidenKind } from '../widen';
import type { Host } from './host';
import type { ChatState } from './state';

/** How long "Stranger left" stays before the automatic new search. */
export const AUTO_REQUEUE_MS = 3000;
const COUNTS_POLL_MS = 5000;

export class WaitingPart {
  private countsTimer: ReturnType<typeof setInterval> | null = null;
  private requeueTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly host: Host,
    private readonly now: () => number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Start screen: keep online/waiting counts fresh while the socket is open (stops on Start). */
  watchCounts(mode: ChatMode): () => void {
    this.stopCounts();
    const ask = () => {
      const g = this.host.gateway;
      // Only over a socket that is already open (back from a chat): a first visit opens none before Start.
      if (this.host.state().screen !== 'start' || !g.ready) return;
      g.request('queue-status', { mode })
        .then((a) => this.onCounts(a))
        .catch(() => undefined);
    };
    ask();
    this.countsTimer = setInterval(ask, COUNTS_POLL_MS);
    return () => this.stopCounts();
  }

  stopCounts(): void {
    if (this.countsTimer) clearInterval(this.countsTimer);
    this.countsTimer = null;
  }

  /** Counts and the visitor's own country from a queue-status or join-queue answer (untrusted shapes ignored). */
  onCounts(a: unknown): void {
    const r = (a ?? {}) as { online?: unknown; waiting?: unknown; country?: unknown };
    if (typeof r.online === 'number' && typeof r.waiting === 'number') this.host.set({ counts: { online: r.online, waiting: r.waiting } });
    if (typeof r.country === 'string' && /^[A-Z]{2}$/.test(r.country)) this.host.set({ myCountry: r.country });
  }

  onQueueStatus(q: { elapsedMs?: unknown; narrow?: unknown }): void {
    this.onCounts(q);
    if (this.host.state().phase !== 'queued') return;
    const patch: Partial<ChatState> = { narrow: parseWidenKinds(q?.narrow) };
    if (typeof q?.elapsedMs === 'number' && q.elapsedMs >= 0) patch.waitingSince = this.now() - q.elapsedMs;
    this.host.set(patch);
  }

  onMatchTimeout(m: { suggest?: unknown }): void {
    if (this.host.state().phase === 'queued') this.host.set({ timeoutSuggest: parseWidenKinds(m?.suggest) });
  }

  /** One-click widen after `match-timeout`: the criteria without `kinds`, keeping the place in the queue. */
  widen(kinds?: readonly WidenKind[]): void {
    const s = this.host.state();
    if (!s.criteria || s.phase !== 'queued') return;
    const drop = kinds ?? s.timeoutSuggest ?? ['language', 'country', 'interests'];
    const criteria = widenCriteria(s.criteria, drop);
    this.host.set({ criteria, timeoutSuggest: null, narrow: s.narrow.filter((k) => !drop.includes(k)) });
    this.host.gateway.request('join-queue', { ...criteria, update: true }).catch((e) => this.onError(e));
  }

  /** After the partner left: count down, then `fire` (unless the phase moved on or it was cancelled). */
  scheduleRequeue(fire: () => void): void {
    this.stopRequeue();
    const due = this.now() + AUTO_REQUEUE_MS;
    this.host.set({ requeueInMs: AUTO_REQUEUE_MS });
    this.requeueTimer = setInterval(() => {
      const left = due - this.now();
      if (this.host.state().phase !== 'ended') return this.stopRequeue();
      if (left > 0) return this.host.set({ requeueInMs: left });
      this.stopRequeue();
      fire();
    }, 250);
  }

  stopRequeue(): void {
    if (this.requeueTimer) clearInterval(this.requeueTimer);
    this.requeueTimer = null;
    if (this.host.state().requeueInMs !== null) this.host.set({ requeueInMs: null });
  }
}
