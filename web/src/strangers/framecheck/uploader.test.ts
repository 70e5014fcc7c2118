import { describe, expect, it } from 'vitest';
import { framesPath, uploadFrame } from './uploader';

function reply(status: number, body: unknown): typeof fetch {
  return (async () => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })) as typeof fetch;
}

describe('uploadFrame', () => {
  it('posts the raw JPEG with the bearer token to the session frames route', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const f = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ queued: true }), { status: 202 });
    }) as unknown as typeof fetch;
    const jpeg = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    expect(await uploadFrame('s/1', jpeg, 'tok', f)).toEqual({ kind: 'sent', queued: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/api/strangers/sessions/s%2F1/frames');
    expect(seen[0]!.init.method).toBe('POST');
    expect(seen[0]!.init.body).toBe(jpeg);
    expect(seen[0]!.init.headers).toEqual({ 'Content-Type': 'image/jpeg', Authorization: 'Bearer tok' });
  });

  it('reads queued: false as a frame the server dropped', async () => {
    expect(await uploadFrame('s', new Blob(['x']), 't', reply(202, { queued: false }))).toEqual({ kind: 'sent', queued: false });
  });

  it('stops on 403, 404 and 409', async () => {
    for (const status of [403, 404, 409])
      expect(await uploadFrame('s', new Blob(['x']), 't', reply(status, { error: { code: `c${status}`, message: 'no' } }))).toEqual({ kind: 'stop', code: `c${status}` });
  });

  it('backs off on 429 with the server hint', async () => {
    expect(await uploadFrame('s', new Blob(['x']), 't', reply(429, { error: { code: 'rate_limited', message: 'slow' }, retryAfterMs: 7000 }))).toEqual({ kind: 'backoff', retryAfterMs: 7000 });
  });

  it('carries on after a network error or a 5xx', async () => {
    const down = (async () => {
      throw new TypeError('offline');
    }) as unknown as typeof fetch;
    expect(await uploadFrame('s', new Blob(['x']), 't', down)).toEqual({ kind: 'failed', status: 0, code: 'network' });
    expect(await uploadFrame('s', new Blob(['x']), 't', reply(500, undefined))).toEqual({ kind: 'failed', status: 500, code: 'http_500' });
  });

  it('builds the path from the session id', () => {
    expect(framesPath('abc')).toBe('/api/strangers/sessions/abc/frames');
  });
});
