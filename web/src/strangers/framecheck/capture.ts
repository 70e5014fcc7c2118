/**
 * Takes one still of our own outgoing camera track and encodes it as a small
 * JPEG. Chromium has ImageCapture.grabFrame (no element needed); elsewhere a
 * detached, muted <video> plays the track and is drawn to a canvas. The canvas
 * is an OffscreenCanvas when the browser has one (convertToBlob), else a DOM
 * canvas (toBlob). The frame never touches the page and is dropped after upload.
 */
import { scaledSize } from './schedule';

type Drawable = CanvasImageSource & { close?: () => void };
interface Still {
  image: Drawable;
  width: number;
  height: number;
}

interface ImageCaptureLike {
  grabFrame(): Promise<ImageBitmap>;
}
type ImageCaptureCtor = new (track: MediaStreamTrack) => ImageCaptureLike;

const PLAY_TIMEOUT_MS = 3000;

export class FrameGrabber {
  private capture: { track: MediaStreamTrack; ic: ImageCaptureLike } | null = null;
  private video: HTMLVideoElement | null = null;
  private useImageCapture = true;

  /** A JPEG of the track's current picture, or null when there is none to take. */
  async grab(track: MediaStreamTrack, maxWidth: number, quality: number): Promise<Blob | null> {
    if (track.kind !== 'video' || track.readyState !== 'live' || !track.enabled) return null;
    const still = await this.still(track);
    if (!still) return null;
    try {
      const size = scaledSize(still.width, still.height, maxWidth);
      return size ? await encode(still.image, size.width, size.height, quality) : null;
    } finally {
      still.image.close?.();
    }
  }

  close(): void {
    this.capture = null;
    if (this.video) {
      this.video.pause();
      this.video.srcObject = null;
      this.video = null;
    }
  }

  private async still(track: MediaStreamTrack): Promise<Still | null> {
    const IC = (globalThis as unknown as { ImageCapture?: ImageCaptureCtor }).ImageCapture;
    if (IC && this.useImageCapture) {
      try {
        if (this.capture?.track !== track) this.capture = { track, ic: new IC(track) };
        const bmp = await this.capture.ic.grabFrame();
        return { image: bmp, width: bmp.width, height: bmp.height };
      } catch {
        // Some builds refuse grabFrame (or the track changed under it): use the <video> path from now on.
        this.useImageCapture = false;
        this.capture = null;
      }
    }
    return this.fromVideo(track);
  }

  private async fromVideo(track: MediaStreamTrack): Promise<Still | null> {
    if (typeof document === 'undefined') return null;
    let v = this.video;
    if (!v) {
      v = document.createElement('video');
      v.muted = true;
      v.playsInline = true;
      this.video = v;
    }
    const current = v.srcObject as MediaStream | null;
    if (!current || current.getVideoTracks()[0] !== track) v.srcObject = new MediaStream([track]);
    if (!v.videoWidth || v.paused) {
      const el = v;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        el.play().catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, PLAY_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    }
    if (!v.videoWidth || !v.videoHeight) return null;
    return { image: v, width: v.videoWidth, height: v.videoHeight };
  }
}

async function encode(image: CanvasImageSource, width: number, height: number, quality: number): Promise<Blob | null> {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (ctx && 'convertToBlob' in canvas) {
      ctx.drawImage(image, 0, 0, width, height);
      try {
        return await canvas.convertToBlob({ type: 'image/jpeg', quality });
      } catch {
        /* fall through to a DOM canvas */
      }
    }
  }
  if (typeof document === 'undefined') return null;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(image, 0, 0, width, height);
  return new Promise((resolve) => {
    try {
      canvas.toBlob((b) => resolve(b && b.type === 'image/jpeg' ? b : null), 'image/jpeg', quality);
    } catch {
      resolve(null);
    }
  });
}
