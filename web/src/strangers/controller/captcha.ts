/**
 * The CAPTCHA part of the strangers controller: a join-queue or next refused
 * with `captcha_required` waits for the server's challenge, solves it (ALTCHA
 * proof of work), sends the solution and then repeats what was refused.
 */
import type { GatewayError } from '../../gateway/client';
import type { CaptchaRequired } from '../../protocol';
import { encodeAltchaPayload, isAltchaChallenge, solveAltcha, type AltchaChallenge, type CaptchaSolver } from '../../lib/captcha';
import { t } from '../../i18n';
import type { Host } from './host';

export type CaptchaRetry = 'join' | 'next';

export class CaptchaFlow {
  /** What to do again once the CAPTCHA is passed. */
  private retry: CaptchaRetry | null = null;
  /** Bumped to cancel a running solve. */
  private run = 0;
  private abort: AbortController | null = null;
  private challenge: AltchaChallenge | null = null;
  /** A solution was accepted while nothing was waiting for it: the next captcha_required retries at once. */
  private passed = false;

  constructor(
    private readonly host: Host,
    private readonly again: (kind: CaptchaRetry) => void,
    private readonly solver?: CaptchaSolver,
  ) {}

  get pending(): AltchaChallenge | null {
    return this.challenge;
  }

  /** A join-queue / next ack failed with captcha_required. */
  needed(kind: CaptchaRetry): void {
    if (this.host.state().screen !== 'chat') return;
    if (this.passed) {
      // The solution was accepted before this ack arrived: just try again.
      this.passed = false;
      this.again(kind);
      return;
    }
    this.retry = kind;
    if (!this.host.state().captcha) this.host.set({ captcha: { status: 'waiting', error: null } });
  }

  /** The server's `captcha-required` event (with the challenge). */
  required(c: CaptchaRequired): void {
    if (this.host.state().screen === 'banned') return;
    const challenge = c?.challenge;
    if (!isAltchaChallenge(challenge)) {
      this.host.set({ captcha: { status: 'error', error: t('captcha.loadFailed') } });
      return;
    }
    this.passed = false;
    this.challenge = challenge;
    void this.solve(challenge);
  }

  /** "Try again": repeat what needed the CAPTCHA (the server sends a new challenge). */
  retryNow(): void {
    const s = this.host.state();
    if (s.screen !== 'chat') return;
    const kind = this.retry ?? (s.phase === 'connecting' ? 'join' : 'next');
    this.cancel();
    this.retry = kind;
    this.host.set({ captcha: { status: 'waiting', error: null } });
    this.again(kind);
  }

  cancel(): void {
    this.run++;
    this.abort?.abort();
    this.abort = null;
    this.retry = null;
    this.challenge = null;
    this.passed = false;
    if (this.host.state().captcha) this.host.set({ captcha: null });
  }

  private async solve(challenge: AltchaChallenge): Promise<void> {
    const run = ++this.run;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.host.set({ captcha: { status: 'solving', error: null } });
    const solve = this.solver ?? solveAltcha;
    let solution = null;
    let failure: string | null = null;
    try {
      solution = await solve(challenge, abort.signal);
    } catch (err) {
      console.error('captcha solver failed', err);
      failure = t('captcha.browserFailed');
    }
    if (run !== this.run) return;
    if (!solution) {
      this.host.set({ captcha: { status: 'error', error: failure ?? t('captcha.slow') } });
      return;
    }
    this.host.set({ captcha: { status: 'verifying', error: null } });
    try {
      await this.host.gateway.request('captcha-solution', { payload: encodeAltchaPayload(challenge, solution) });
    } catch (err) {
      if (run !== this.run) return;
      const e = err as GatewayError;
      // A new captcha-required (with a fresh challenge) may already be on its way; until then show the error.
      this.host.set({ captcha: { status: 'error', error: e?.message || t('captcha.rejected') } });
      return;
    }
    if (run !== this.run) return;
    this.challenge = null;
    this.abort = null;
    const kind = this.retry;
    this.retry = null;
    this.host.set({ captcha: null });
    if (kind) this.again(kind);
    else this.passed = true;
  }
}
