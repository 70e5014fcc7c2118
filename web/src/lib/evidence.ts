/** Report evidence: one JPEG frame of the remote video as a data: URL (max 640 px wide, quality 0.7). */

export const EVIDENCE_MAX_WIDTH = 640;

/** Null when there is no frame yet (no video, not playing) or the canvas cannot be read. */
export function captureFrame(video: HTMLVideoElement | null | undefined, doc: Document = document): string | null {
  if (!video) return null;
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w || !h) return null;
  const scale = Math.min(1, EVIDENCE_MAX_WIDTH / w);
  const canvas = doc.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(h * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  try {
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const url = canvas.toDataURL('image/jpeg', 0.7);
    return url.startsWith('data:image/jpeg') ? url : null;
  } catch {
    return null;
  }
}
