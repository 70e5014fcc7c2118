/**
 * Sends one sampled frame: `POST /api/strangers/sessions/{sessionId}/frames`,
 * the raw JPEG as the body, the visitor's guest bearer token. The answer is
 * reduced to what the sampler does next; nothing here is ever shown to the
 * visitor (a frame that did not arrive is the server's problem, not theirs).
 */
import { parseError } from '../../lib/api';

export type UploadOutcome =
  /** 202: taken (queued: false when the server's queue was full and it dropped the frame). */
  | { kind: 'sent'; queued: boolean }
  /** 403/404/409: no sampling for this session any more (not ours, gone, or not a video session). */
  | { kind: 'stop'; code: string }
  /** 429: wait at least this long before the next frame. */
  | { kind: 'backoff'; retryAfterMs: number | undefined }
  /** Anything else (network, 5xx, 413...): carry on at the normal pace. */
  | { kind: 'failed'; status: number; code: string };

export function framesPath(sessionId: string): string {
  return `/api/strangers/sessions/${encodeURIComponent(sessionId)}/frames`;
}

export async function uploadFrame(
  sessionId: string,
  jpeg: Blob,
  token: string,
  fetchImpl: typeof fetch = (...a) => fetch(...a),
): Promise<UploadOutcome> {
  let res: Response;
  try {
    res = await fetchImpl(framesPath(sessionId), {
      method: 'POST',
      headers: { 'Content-Type': 'image/jpeg', Authorization: `Bearer ${token}` },
      body: jpeg,
    });
  } catch {
    return { kind: 'failed', status: 0, code: 'network' };
  }
  if (res.ok) {
    let queued = true;
    try {
      const body = (await res.json()) as { queued?: unknown };
      queued = body?.queued !== false;
    } catch {
      /* 202 without a body: taken */
    }
    return { kind: 'sent', queued };
  }
  const err = await parseError(res);
  if (res.status === 403 || res.status === 404 || res.status === 409) return { kind: 'stop', code: err.code };
  if (res.status === 429) return { kind: 'backoff', retryAfterMs: err.retryAfterMs };
  return { kind: 'failed', status: res.status, code: err.code };
}
