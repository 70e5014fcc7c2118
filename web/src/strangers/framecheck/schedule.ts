/**
 * The frame-check sampling policy as pure functions: what the server asked for
 * (`matched.frameCheck`), when the next frame is due and how big it is. No
 * timers or browser objects here, so all of it is unit-tested.
 *
 * Why random intervals: a fixed period would let a visitor learn when frames
 * are taken and behave between them; an exponential wait (memoryless) gives no
 * such rhythm. It is clamped so a frame is neither taken in a burst nor
 * postponed for long.
 */

/** `matched.frameCheck` as the client uses it (docs/protocol.md). */
export interface FrameCheckPolicy {
  /** Delay of the first frame after our camera is live in the session. */
  firstAfterMs: number;
  /** Mean of the exponential wait between later frames. */
  meanIntervalMs: number;
  /** Frames are scaled down to at most this many pixels wide (aspect kept). */
  maxWidth: number;
  /** JPEG quality, 0..1. */
  jpegQuality: number;
}

/** The wait between frames stays within [MIN_FACTOR, MAX_FACTOR] × the mean. */
export const MIN_FACTOR = 0.25;
export const MAX_FACTOR = 4;
/** Lower bounds that keep a broken or hostile policy from hammering the server. */
export const MIN_INTERVAL_MS = 1000;
export const MIN_WIDTH = 32;
export const MAX_WIDTH = 1280;

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * The policy from a `matched` event, or null when there is none or it is not
 * usable (the client then samples nothing, which is always safe).
 */
export function parsePolicy(raw: unknown): FrameCheckPolicy | null {
  if (!raw || typeof raw !== 'object') return null;
  const p = raw as Record<string, unknown>;
  const { firstAfterMs, meanIntervalMs, maxWidth, jpegQuality } = p;
  if (!finite(firstAfterMs) || !finite(meanIntervalMs) || !finite(maxWidth) || !finite(jpegQuality)) return null;
  if (firstAfterMs < 0 || meanIntervalMs <= 0 || maxWidth <= 0 || jpegQuality <= 0) return null;
  return {
    firstAfterMs: Math.round(firstAfterMs),
    meanIntervalMs: Math.max(MIN_INTERVAL_MS, Math.round(meanIntervalMs)),
    maxWidth: Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(maxWidth))),
    jpegQuality: Math.min(1, jpegQuality),
  };
}

/**
 * Milliseconds until the next frame: exponential with the given mean (inverse
 * transform of a uniform `u` in [0, 1)), clamped to [0.25, 4] × mean.
 */
export function nextDelayMs(meanMs: number, random: () => number = Math.random): number {
  const u = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  const raw = -meanMs * Math.log(1 - u);
  return Math.round(Math.min(meanMs * MAX_FACTOR, Math.max(meanMs * MIN_FACTOR, raw)));
}

/**
 * After a 429: wait what the server said (at least one mean interval when it
 * said nothing), never less than the usual floor.
 */
export function backoffMs(retryAfterMs: number | undefined, meanMs: number): number {
  const hinted = finite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : meanMs;
  return Math.round(Math.max(hinted, meanMs * MIN_FACTOR));
}

/** The size of the sent frame: at most `maxWidth` wide, aspect kept, never enlarged, at least 1×1. */
export function scaledSize(width: number, height: number, maxWidth: number): { width: number; height: number } | null {
  if (!(width > 0) || !(height > 0) || !(maxWidth > 0)) return null;
  const scale = Math.min(1, maxWidth / width);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
