/**
 * When the client tries again after its socket closed: exponential backoff
 * with "equal jitter", capped; after an `unavailable` close never sooner than
 * the server's retryAfterMs (with jitter of its own, so the clients of a node
 * that went down do not all come back at once), and then the user is told
 * (the `reconnecting` notice and the unavailable banner) until the next welcome.
 */
import { t } from '../i18n';
import { announceUnavailable } from '../lib/api';
import { CloseCode, type ReconnectingInfo, type Timers } from './types';

/** What a socket's close means for coming back (see afterClose). */
export interface ClosePlan {
  reconnect: boolean;
  /** A 4001 for the first time: ask for a fresh token and come back at once. */
  freshToken: boolean;
  /** Reopen after exactly this long (instead of backoff). */
  fixedDelayMs?: number;
  /** The server is unavailable: reopen no sooner than this (its retryAfterMs, else 1 s). */
  unavailableFloorMs?: number;
}

/**
 * The close codes of the wire contract, read: banned (4003) and replaced
 * (4010) stay closed; unauthorized (4001) is retried once with a fresh token;
 * 1013, 1011 or an `unavailable` error on the socket (`unavailableMs`, its
 * retryAfterMs) means the server is down for a while.
 */
export function afterClose(
  code: number,
  s: { stopped: boolean; authRetried: boolean; unavailableMs: number | null },
): ClosePlan {
  let reconnect = !s.stopped;
  let freshToken = false;
  if (code === CloseCode.BANNED || code === CloseCode.REPLACED) reconnect = false;
  if (code === CloseCode.UNAUTHORIZED) {
    if (s.authRetried) reconnect = false;
    else freshToken = true;
  }
  const plan: ClosePlan = { reconnect, freshToken };
  if (code === CloseCode.UNAUTHORIZED) plan.fixedDelayMs = 0;
  if (code === CloseCode.TRY_AGAIN_LATER || code === CloseCode.INTERNAL_ERROR || s.unavailableMs !== null) {
    plan.unavailableFloorMs = s.unavailableMs ?? 1000;
  }
  return plan;
}

export interface ReconnectOptions extends Timers {
  baseMs: number;
  maxMs: number;
  /** [0, 1), for jitter. */
  random: () => number;
  /** Dispatch the `reconnecting` lifecycle event. */
  notify: (info: ReconnectingInfo) => void;
  /** The delay is over: open a new socket. */
  reopen: () => void;
}

export class Reconnector {
  private attempt = 0;
  private timer: unknown = null;
  /** An "unavailable, reconnecting" notice is showing (cleared by the next welcome). */
  private announced = false;

  constructor(private readonly o: ReconnectOptions) {}

  /** Backoff starts over (connect()). */
  restart(): void {
    this.attempt = 0;
  }

  /** Welcomed: backoff starts over and an unavailable notice goes away. */
  welcomed(): void {
    if (this.announced) {
      this.announced = false;
      announceUnavailable({ active: false, retryInMs: 0, message: '' });
    }
    this.attempt = 0;
  }

  /**
   * Reopen after `fixedDelay`, or after the next backoff delay; after an
   * `unavailable` close, no sooner than `unavailableFloorMs` (plus jitter).
   */
  schedule(fixedDelay?: number, unavailableFloorMs?: number): void {
    this.cancel();
    this.attempt += 1;
    let delayMs: number;
    if (fixedDelay !== undefined) delayMs = fixedDelay;
    else {
      const cap = Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(this.attempt - 1, 30));
      // "Equal jitter": between half and all of the capped exponential delay.
      delayMs = Math.round(cap / 2 + (cap / 2) * this.o.random());
    }
    if (unavailableFloorMs !== undefined) {
      delayMs = Math.max(delayMs, Math.round(unavailableFloorMs * (1 + 0.5 * this.o.random())));
      const seconds = Math.ceil(delayMs / 1000);
      const message = t('unavailable.reconnecting', { seconds });
      this.o.notify({ attempt: this.attempt, delayMs, unavailable: true, message });
      this.announced = true;
      announceUnavailable({ active: true, retryInMs: delayMs, message });
    } else this.o.notify({ attempt: this.attempt, delayMs });
    this.timer = this.o.setT(() => {
      this.timer = null;
      this.o.reopen();
    }, delayMs);
  }

  cancel(): void {
    if (this.timer !== null) {
      this.o.clearT(this.timer);
      this.timer = null;
    }
  }
}
