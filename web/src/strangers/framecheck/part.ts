/**
 * Automatic frame moderation, the strangers controller's side (issue 17):
 * starts a FrameSampler for a video session whose `matched` carries a
 * `frameCheck` policy, stops it with the call, and turns the server's verdicts
 * into state — `video-hidden` (to the partner: blur the sender's video at once)
 * and `video-flagged` (to the sender: your video was hidden from your partner).
 *
 * Not sampled, by design: text sessions, sessions without a policy (operator
 * switch off), contacts calls (this part only exists in the strangers app), and
 * ticks while the camera is off.
 */
import type { GatewayClient } from '../../gateway/client';
import type { Matched, VideoFlaggedOut, VideoHiddenOut } from '../../protocol';
import type { Host } from '../controller/host';
import { FrameGrabber } from './capture';
import { FrameSampler } from './sampler';
import { parsePolicy } from './schedule';
import { uploadFrame } from './uploader';

export interface FrameCheckDeps {
  getToken: () => Promise<string>;
  fetch?: typeof fetch;
  random?: () => number;
  /** Tests: a fake grabber (the real one needs a browser). */
  grab?: (track: MediaStreamTrack, maxWidth: number, quality: number) => Promise<Blob | null>;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** The fields of `matched` this part reads. */
export type MatchedLike = Pick<Matched, 'sessionId' | 'mode' | 'frameCheck'>;

/** `video-hidden` / `video-flagged`, checked field by field (a wire payload is never trusted). */
type VerdictEvent = Partial<VideoHiddenOut | VideoFlaggedOut> | null | undefined;

export class FrameCheckPart {
  private sampler: FrameSampler | null = null;
  private grabber: FrameGrabber | null = null;

  constructor(
    private readonly host: Host,
    private readonly deps: FrameCheckDeps,
  ) {}

  /** The current session's sampler (null: not sampling); browser tests read its stats. */
  get current(): FrameSampler | null {
    return this.sampler;
  }

  wire(g: GatewayClient): void {
    g.on('video-hidden', (e: VerdictEvent) => {
      if (this.forCurrentSession(e)) this.host.set({ videoHidden: reasonOf(e) });
    });
    g.on('video-flagged', (e: VerdictEvent) => {
      if (this.forCurrentSession(e)) this.host.set({ videoFlagged: reasonOf(e) });
    });
  }

  /** A new session: sample our camera when it is a video session with a policy. */
  start(m: MatchedLike): void {
    this.stop();
    if (m.mode !== 'video') return;
    const policy = parsePolicy(m.frameCheck);
    if (!policy) return;
    const sessionId = m.sessionId;
    const grabber = new FrameGrabber();
    this.grabber = grabber;
    this.sampler = new FrameSampler({
      policy,
      track: () => this.cameraTrack(sessionId),
      grab: this.deps.grab ?? ((tr, w, q) => grabber.grab(tr, w, q)),
      send: async (jpeg) => uploadFrame(sessionId, jpeg, await this.deps.getToken(), this.deps.fetch),
      random: this.deps.random,
      setTimer: this.deps.setTimer,
      clearTimer: this.deps.clearTimer,
    });
    this.sampler.start();
  }

  /** Session over (end, Next, partner left, offline, ban): no more frames. */
  stop(): void {
    this.sampler?.stop();
    this.sampler = null;
    this.grabber?.close();
    this.grabber = null;
  }

  /** Our live, enabled camera track while this session is the current one; else null. */
  private cameraTrack(sessionId: string): MediaStreamTrack | null {
    const s = this.host.state();
    if (s.sessionId !== sessionId || s.phase !== 'matched' || s.mode !== 'video' || !s.camOn) return null;
    const track = s.localStream?.getVideoTracks().find((tr) => tr.readyState === 'live' && tr.enabled);
    return track ?? null;
  }

  private forCurrentSession(e: VerdictEvent): boolean {
    const s = this.host.state();
    return Boolean(e && typeof e === 'object' && s.phase === 'matched' && s.sessionId && e.sessionId === s.sessionId);
  }
}

function reasonOf(e: VerdictEvent): string {
  const r: unknown = e?.reason;
  return typeof r === 'string' && r ? r : 'other';
}
