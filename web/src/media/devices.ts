/**
 * Camera and microphone plumbing shared by the strangers app: listing devices,
 * opening them with the remembered choice, classifying a failure, the words
 * for "how to allow the camera in this browser", and swapping a track on a
 * live RTCPeerConnection (RTCRtpSender.replaceTrack: no renegotiation).
 */

export type MediaKind = 'camera' | 'mic';
export type MediaProblem = 'denied' | 'notfound' | 'unavailable' | 'unsupported';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export interface DeviceChoice {
  cameraId: string | null;
  micId: string | null;
}

export const DEVICES_KEY = 'connect.devices';

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStore(): Store | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function loadDeviceChoice(store: Store | null = defaultStore()): DeviceChoice {
  try {
    const raw = JSON.parse(store?.getItem(DEVICES_KEY) ?? 'null') as Record<string, unknown> | null;
    const id = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : null);
    return { cameraId: id(raw?.cameraId), micId: id(raw?.micId) };
  } catch {
    return { cameraId: null, micId: null };
  }
}

export function saveDeviceChoice(choice: Partial<DeviceChoice>, store: Store | null = defaultStore()): DeviceChoice {
  const next = { ...loadDeviceChoice(store), ...choice };
  try {
    store?.setItem(DEVICES_KEY, JSON.stringify(next));
  } catch {
    /* private mode */
  }
  return next;
}

/** getUserMedia constraints for the remembered devices (`ideal`: a device since unplugged falls back). */
export function mediaConstraints(choice: DeviceChoice, want: { video: boolean; audio: boolean }): MediaStreamConstraints {
  const track = (id: string | null): boolean | MediaTrackConstraints => (id ? { deviceId: { ideal: id } } : true);
  return { video: want.video ? track(choice.cameraId) : false, audio: want.audio ? track(choice.micId) : false };
}

export function classifyMediaError(err: unknown): MediaProblem {
  const name = (err as { name?: string } | null)?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'notfound';
  return 'unavailable';
}

/** Which browser's instructions to show for unblocking the camera. */
export function browserFamily(userAgent: string): 'chrome' | 'firefox' | 'safari' | 'other' {
  if (/Firefox\//.test(userAgent)) return 'firefox';
  if (/(Chrome|Chromium|CriOS|Edg)\//.test(userAgent)) return 'chrome';
  if (/Safari\//.test(userAgent) && /Version\//.test(userAgent)) return 'safari';
  return 'other';
}

/** Devices of one kind, labelled; unnamed ones (no permission yet) get "Camera 1"-style names. */
export function toOptions(devices: readonly MediaDeviceInfo[], kind: MediaDeviceKind, unnamed: (n: number) => string): DeviceOption[] {
  const out: DeviceOption[] = [];
  for (const d of devices) {
    if (d.kind !== kind || !d.deviceId) continue;
    out.push({ deviceId: d.deviceId, label: d.label || unnamed(out.length + 1) });
  }
  return out;
}

/** The id of the device a live track comes from (for the picker's selected value). */
export function trackDeviceId(track: MediaStreamTrack | undefined): string | null {
  if (!track) return null;
  try {
    return track.getSettings?.().deviceId ?? null;
  } catch {
    return null;
  }
}

/**
 * Puts `track` in place of the same-kind track on every sender of `pc` that
 * carries one (the partner's picture keeps playing; no new offer). Returns how
 * many senders were switched.
 */
export async function replaceSenderTrack(pc: RTCPeerConnection | null, track: MediaStreamTrack): Promise<number> {
  if (!pc) return 0;
  let n = 0;
  for (const sender of pc.getSenders()) {
    if (sender.track?.kind === track.kind || (!sender.track && senderKind(pc, sender) === track.kind)) {
      await sender.replaceTrack(track);
      n += 1;
    }
  }
  return n;
}

function senderKind(pc: RTCPeerConnection, sender: RTCRtpSender): string | null {
  for (const tr of pc.getTransceivers?.() ?? []) if (tr.sender === sender) return tr.receiver.track?.kind ?? null;
  return null;
}
