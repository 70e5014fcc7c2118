/**
 * The sampling loop of one video session: the first frame `firstAfterMs` after
 * it starts, then one after each random wait (schedule.ts), until stopped or the
 * server says to stop (403/404/409). A 429 stretches the next wait. A tick with
 * no camera to sample (camera off, no camera, track ended) takes nothing and
 * waits for the next one. One frame is in flight at a time: the next wait only
 * starts after the upload answered, so a slow server slows the client down.
 */
import type { FrameCheckPolicy } from './schedule';
import { backoffMs, nextDelayMs } from './schedule';
import type { UploadOutcome } from './uploader';

export interface SamplerDeps {
  policy: FrameCheckPolicy;
  /** The live camera track to sample now, or null (then this tick takes nothing). */
  track: () => MediaStreamTrack | null;
  grab: (track: MediaStreamTrack, maxWidth: number, quality: number) => Promise<Blob | null>;
  send: (jpeg: Blob) => Promise<UploadOutcome>;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  now?: () => number;
}

/** What the sampler did so far (read by browser tests through window.__connect). */
export interface SamplerStats {
  sent: number;
  skipped: number;
  failed: number;
  backoffs: number;
  stoppedBy: string | null;
  /** The waits scheduled so far (the first is firstAfterMs), last 50. */
  delays: number[];
  /** When each accepted frame was sent, ms after start(), last 50. */
  sentAt: number[];
}

export class FrameSampler {
  private timer: unknown = null;
  private running = false;
  private startedAt = 0;
  readonly stats: SamplerStats = { sent: 0, skipped: 0, failed: 0, backoffs: 0, stoppedBy: null, delays: [], sentAt: [] };

  constructor(private readonly deps: SamplerDeps) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.now();
    this.schedule(this.deps.policy.firstAfterMs);
  }

  stop(reason = 'stopped'): void {
    if (!this.running) return;
    this.running = false;
    this.stats.stoppedBy = reason;
    if (this.timer !== null) (this.deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)))(this.timer);
    this.timer = null;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    keepLast(this.stats.delays, ms);
    const set = this.deps.setTimer ?? ((fn, t) => setTimeout(fn, t));
    this.timer = set(() => {
      this.timer = null;
      void this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const { policy } = this.deps;
    const next = () => nextDelayMs(policy.meanIntervalMs, this.deps.random);
    let outcome: UploadOutcome | null = null;
    try {
      const track = this.deps.track();
      const jpeg = track ? await this.deps.grab(track, policy.maxWidth, policy.jpegQuality) : null;
      if (!this.running) return;
      if (!jpeg) {
        this.stats.skipped++;
      } else {
        const at = this.now() - this.startedAt;
        outcome = await this.deps.send(jpeg);
        if (outcome.kind === 'sent') keepLast(this.stats.sentAt, at);
      }
    } catch {
      this.stats.failed++;
    }
    if (!this.running) return;
    if (!outcome) return this.schedule(next());
    switch (outcome.kind) {
      case 'sent':
        this.stats.sent++;
        return this.schedule(next());
      case 'stop':
        return this.stop(outcome.code);
      case 'backoff':
        this.stats.backoffs++;
        return this.schedule(backoffMs(outcome.retryAfterMs, policy.meanIntervalMs));
      case 'failed':
        this.stats.failed++;
        return this.schedule(next());
    }
  }
}

function keepLast(list: number[], v: number, max = 50): void {
  list.push(v);
  if (list.length > max) list.shift();
}
