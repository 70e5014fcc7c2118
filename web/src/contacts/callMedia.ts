/**
 * Controller part 6 of 6 — media changes during a call: screen sharing
 * (replaceTrack on the video sender, the sharer's own preview), the audio→video
 * upgrade (a new track and a renegotiation offer from whichever side upgrades)
 * and switching camera or microphone (replaceTrack, no renegotiation).
 *
 * `ContactsController` is the whole controller: store → messaging → sync → calls → callMedia.
 */
import { isCallActive } from '../lib/callState';
import { replaceSenderTrack, saveDeviceChoice, toOptions } from '../media/devices';
import { t } from '../i18n';
import { ContactsCalls } from './calls';

export class ContactsController extends ContactsCalls {
  // ------------------------------------------------------------ screen sharing, upgrade

  /** Send a new offer after adding a track (either side may: the other only answers it). */
  private async renegotiate(): Promise<void> {
    const pc = this.peer?.pc;
    if (!pc || pc.signalingState !== 'stable') return;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
    this.gateway?.emit('send-offer', { offer: { type: 'offer', sdp } });
  }

  /** Put a video track on the call: replace the sender's track, or add one and renegotiate. */
  private async putVideo(track: MediaStreamTrack, stream: MediaStream): Promise<void> {
    const pc = this.peer?.pc;
    if (!pc) return;
    const sender = pc.getSenders().find((x) => x.track?.kind === 'video');
    if (sender) await sender.replaceTrack(track);
    else {
      pc.addTrack(track, stream);
      await this.renegotiate();
    }
  }

  /** Share the screen instead of the camera; the preview shows what is shared. */
  async startScreenShare(): Promise<void> {
    const c = this.state.call;
    if (c.phase !== 'connected' && c.phase !== 'connecting') return;
    if (this.state.sharing) return;
    const gdm =
      this.deps.getDisplayMedia ??
      (typeof navigator !== 'undefined' && navigator.mediaDevices?.getDisplayMedia ? (o: DisplayMediaStreamOptions) => navigator.mediaDevices.getDisplayMedia(o) : null);
    if (!gdm) {
      this.set({ mediaError: t('messenger.shareUnsupported') });
      return;
    }
    let screen: MediaStream;
    try {
      screen = await gdm({ video: true, audio: false });
    } catch {
      return; // the user chose nothing
    }
    const track = screen.getVideoTracks()[0];
    if (!track) return;
    const local = this.state.localStream ?? new MediaStream();
    this.cameraTrack = local.getVideoTracks()[0] ?? null;
    this.screenTrack = track;
    track.onended = () => void this.stopScreenShare();
    await this.putVideo(track, local);
    const preview = new MediaStream([...local.getAudioTracks(), track]);
    this.set({ sharing: true, localStream: preview });
  }

  async stopScreenShare(): Promise<void> {
    if (!this.state.sharing) return;
    const screen = this.screenTrack;
    this.screenTrack = null;
    const cam = this.cameraTrack;
    this.cameraTrack = null;
    const pc = this.peer?.pc;
    const sender = pc?.getSenders().find((x) => x.track === screen);
    if (sender) await sender.replaceTrack(cam).catch(() => undefined);
    screen?.stop();
    const audio = this.state.localStream?.getAudioTracks() ?? [];
    this.set({ sharing: false, localStream: new MediaStream(cam ? [...audio, cam] : audio) });
  }

  /** Turn an audio call into a video call: add the camera and renegotiate. */
  async upgradeToVideo(): Promise<void> {
    const c = this.state.call;
    if (c.phase !== 'connected' || this.state.localStream?.getVideoTracks().length) return;
    const gum = this.deps.getUserMedia ?? ((x: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(x));
    let cam: MediaStream;
    try {
      cam = await gum({ video: true, audio: false });
    } catch {
      this.set({ mediaError: t('messenger.mediaFailed') });
      return;
    }
    const track = cam.getVideoTracks()[0];
    if (!track) return;
    const local = this.state.localStream ?? new MediaStream();
    local.addTrack(track);
    await this.putVideo(track, local);
    this.set({ localStream: new MediaStream(local.getTracks()), camOn: true, upgraded: true });
  }

  /** List cameras and microphones (labels are known once a call has media). */
  async listDevices(): Promise<void> {
    if (typeof navigator === 'undefined' || !navigator.mediaDevices?.enumerateDevices) return;
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      this.set({
        devices: {
          cameras: toOptions(all, 'videoinput', (n) => t('messenger.cameraN', { n })),
          mics: toOptions(all, 'audioinput', (n) => t('messenger.micN', { n })),
        },
      });
    } catch {
      /* no list: the pickers stay hidden */
    }
  }

  /** Switch camera or microphone mid-call: replaceTrack, no renegotiation; remembered for next time. */
  async switchDevice(kind: 'camera' | 'mic', deviceId: string): Promise<void> {
    const local = this.state.localStream;
    if (!local || !isCallActive(this.state.call)) return;
    const gum = this.deps.getUserMedia ?? ((x: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(x));
    let fresh: MediaStream;
    try {
      fresh = await gum(kind === 'camera' ? { video: { deviceId: { exact: deviceId } }, audio: false } : { audio: { deviceId: { exact: deviceId } }, video: false });
    } catch {
      this.set({ mediaError: t('messenger.mediaFailed') });
      return;
    }
    const track = kind === 'camera' ? fresh.getVideoTracks()[0] : fresh.getAudioTracks()[0];
    if (!track) return;
    track.enabled = kind === 'camera' ? this.state.camOn : this.state.micOn;
    if (!(kind === 'camera' && this.state.sharing)) await replaceSenderTrack(this.peer?.pc ?? null, track);
    const old = kind === 'camera' ? (this.state.sharing ? this.cameraTrack : local.getVideoTracks()[0]) : local.getAudioTracks()[0];
    if (kind === 'camera' && this.state.sharing) this.cameraTrack = track;
    const keep = local.getTracks().filter((x) => x !== old);
    old?.stop();
    saveDeviceChoice(kind === 'camera' ? { cameraId: deviceId } : { micId: deviceId });
    const next = kind === 'camera' && this.state.sharing ? keep : [...keep, track];
    this.set({ localStream: new MediaStream(next), mediaError: null });
  }
}
