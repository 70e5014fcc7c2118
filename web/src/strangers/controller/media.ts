/**
 * The local camera/microphone of the strangers controller: one stream shared by
 * the start screen's preview and the call, the remembered device choice, the
 * pickers' lists, mute/camera toggles and the mid-call device switch (the new
 * track replaces the old one on the RTCPeerConnection's sender: no renegotiation,
 * the partner's picture keeps playing).
 */
import {
  classifyMediaError,
  loadDeviceChoice,
  mediaConstraints,
  replaceSenderTrack,
  saveDeviceChoice,
  toOptions,
  trackDeviceId,
  type MediaKind,
} from '../../media/devices';
import { t } from '../../i18n';
import type { Host } from './host';

export interface MediaDeps {
  getUserMedia?: (c: MediaStreamConstraints) => Promise<MediaStream>;
  enumerateDevices?: () => Promise<MediaDeviceInfo[]>;
}

export class LocalMedia {
  private opening: Promise<MediaStream | null> | null = null;
  private watching = false;

  constructor(
    private readonly host: Host,
    private readonly deps: MediaDeps,
    /** The live peer connection (null outside a video call). */
    private readonly pc: () => RTCPeerConnection | null,
    /** Called after any change the partner should hear about (media-state). */
    private readonly changed: () => void,
  ) {
    const choice = loadDeviceChoice();
    host.set({ cameraId: choice.cameraId, micId: choice.micId });
  }

  private gum(): ((c: MediaStreamConstraints) => Promise<MediaStream>) | null {
    if (this.deps.getUserMedia) return this.deps.getUserMedia;
    const md = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
    return md?.getUserMedia ? (c) => md.getUserMedia(c) : null;
  }

  /** The stream (opening it once if needed); null with `mediaError` set when there is none. */
  async open(): Promise<MediaStream | null> {
    const have = this.host.state().localStream;
    if (have && have.getTracks().some((tr) => tr.readyState === 'live')) return have;
    if (this.opening) return this.opening;
    this.opening = this.doOpen().finally(() => (this.opening = null));
    return this.opening;
  }

  private async doOpen(): Promise<MediaStream | null> {
    const gum = this.gum();
    if (!gum) {
      this.host.set({ mediaError: 'unsupported' });
      return null;
    }
    const { cameraId, micId } = this.host.state();
    try {
      const stream = await gum(mediaConstraints({ cameraId, micId }, { video: true, audio: true }));
      const s = this.host.state();
      stream.getAudioTracks().forEach((tr) => (tr.enabled = s.micOn));
      stream.getVideoTracks().forEach((tr) => (tr.enabled = s.camOn));
      this.host.set({
        localStream: stream,
        mediaError: null,
        cameraId: trackDeviceId(stream.getVideoTracks()[0]) ?? cameraId,
        micId: trackDeviceId(stream.getAudioTracks()[0]) ?? micId,
      });
      void this.refreshDevices();
      this.watchDevices();
      return stream;
    } catch (err) {
      this.host.set({ mediaError: classifyMediaError(err) });
      void this.refreshDevices();
      return null;
    }
  }

  stop(): void {
    const s = this.host.state().localStream;
    s?.getTracks().forEach((tr) => tr.stop());
    if (s) this.host.set({ localStream: null });
  }

  async refreshDevices(): Promise<void> {
    const list =
      this.deps.enumerateDevices ??
      (typeof navigator !== 'undefined' && navigator.mediaDevices?.enumerateDevices
        ? () => navigator.mediaDevices.enumerateDevices()
        : null);
    if (!list) return;
    try {
      const all = await list();
      this.host.set({
        cameras: toOptions(all, 'videoinput', (n) => t('devices.unnamedCamera', { n })),
        mics: toOptions(all, 'audioinput', (n) => t('devices.unnamedMic', { n })),
      });
    } catch {
      /* keep the old lists */
    }
  }

  private watchDevices(): void {
    if (this.watching || typeof navigator === 'undefined' || !navigator.mediaDevices?.addEventListener) return;
    this.watching = true;
    navigator.mediaDevices.addEventListener('devicechange', () => void this.refreshDevices());
  }

  toggleMic(): void {
    const s = this.host.state();
    if (!s.localStream) return;
    const on = !s.micOn;
    s.localStream.getAudioTracks().forEach((tr) => (tr.enabled = on));
    this.host.set({ micOn: on });
    this.changed();
  }

  toggleCamera(): void {
    const s = this.host.state();
    if (!s.localStream) return;
    const on = !s.camOn;
    s.localStream.getVideoTracks().forEach((tr) => (tr.enabled = on));
    this.host.set({ camOn: on });
    this.changed();
  }

  /**
   * Use another camera or microphone: remembered; with a live stream the new
   * track takes the old one's place in the preview and on the call's sender.
   */
  async switchDevice(kind: MediaKind, deviceId: string): Promise<boolean> {
    const idKey = kind === 'camera' ? 'cameraId' : 'micId';
    saveDeviceChoice({ [idKey]: deviceId });
    this.host.set({ [idKey]: deviceId });
    const s = this.host.state();
    const stream = s.localStream;
    const gum = this.gum();
    if (!stream || !gum) return false;
    const video = kind === 'camera';
    let fresh: MediaStream;
    try {
      fresh = await gum(video ? { video: { deviceId: { exact: deviceId } }, audio: false } : { audio: { deviceId: { exact: deviceId } }, video: false });
    } catch (err) {
      this.host.notify(t(`media.${classifyMediaError(err)}`));
      return false;
    }
    const track = (video ? fresh.getVideoTracks() : fresh.getAudioTracks())[0];
    if (!track) return false;
    const now = this.host.state();
    if (now.localStream !== stream) {
      // The stream went away (End) while the device opened.
      fresh.getTracks().forEach((tr) => tr.stop());
      return false;
    }
    track.enabled = video ? now.camOn : now.micOn;
    const old = video ? stream.getVideoTracks() : stream.getAudioTracks();
    const kept = video ? stream.getAudioTracks() : stream.getVideoTracks();
    try {
      await replaceSenderTrack(this.pc(), track);
    } catch (err) {
      console.warn('replaceTrack failed', err);
    }
    old.forEach((tr) => tr.stop());
    // A new MediaStream object so the preview re-renders; the senders already carry the track.
    const next = new MediaStream([...kept, track]);
    this.host.set({ localStream: next, [idKey]: trackDeviceId(track) ?? deviceId });
    this.changed();
    return true;
  }

  /** What the partner is told (`media-state`). */
  describe(): { audio: boolean; video: boolean; camera: 'ok' | 'none' | 'denied' } {
    const s = this.host.state();
    const stream = s.localStream;
    const hasVideo = Boolean(stream?.getVideoTracks().some((tr) => tr.readyState === 'live'));
    const hasAudio = Boolean(stream?.getAudioTracks().some((tr) => tr.readyState === 'live'));
    const camera = hasVideo ? 'ok' : s.mediaError === 'denied' ? 'denied' : 'none';
    return { audio: hasAudio && s.micOn, video: hasVideo && s.camOn, camera };
  }
}
