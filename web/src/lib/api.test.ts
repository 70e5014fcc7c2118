import { describe, expect, it } from 'vitest';
import { fetchRetrying, onUnavailable, parseError } from './api';

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

const unavailable = (ms: number) =>
  reply(503, { error: { code: 'unavailable', message: 'down' }, retryAfterMs: ms }, { 'Retry-After': '2' });

describe('503 unavailable (issue 14)', () => {
  it('retries with the larger of retryAfterMs and the backoff, then returns the answer', async () => {
    const answers = [unavailable(2000), unavailable(100), reply(200, { token: 't', expiresIn: 300 })];
    const calls: string[] = [];
    const slept: number[] = [];
    const fetchImpl = (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      return answers.shift()!;
    }) as typeof fetch;
    const notices: any[] = [];
    const off = onUnavailable((n) => notices.push(n));
    const res = await fetchRetrying(fetchImpl, '/api/auth/token', { method: 'POST' }, {
      random: () => 0,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    off();
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(3);
    expect(slept).toEqual([2000, 1000]); // the server's hint, then the backoff (500 ms × 2)
    expect(notices.map((n) => n.active)).toEqual([true, true, false]);
    expect(notices[0].message).toContain('temporarily unavailable');
  });

  it('stops after the retries and hands back a localized ApiError carrying retryAfterMs', async () => {
    let calls = 0;
    const fetchImpl = (async () => {
      calls += 1;
      return unavailable(1500);
    }) as typeof fetch;
    const res = await fetchRetrying(fetchImpl, '/api/auth/token', undefined, { retries: 2, sleep: async () => {} });
    expect(calls).toBe(3);
    const err = await parseError(res);
    expect(err.status).toBe(503);
    expect(err.code).toBe('unavailable');
    expect(err.retryAfterMs).toBe(1500);
    expect(err.message).toContain('temporarily unavailable');
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const fetchImpl = (async () => {
      calls += 1;
      return reply(500, { error: { code: 'internal_error', message: 'internal error' } });
    }) as typeof fetch;
    const res = await fetchRetrying(fetchImpl, '/x', undefined, { sleep: async () => {} });
    expect(res.status).toBe(500);
    expect(calls).toBe(1);
  });

  it('reads Retry-After when the body has no hint', async () => {
    const err = await parseError(
      new Response('busy', { status: 503, headers: { 'Retry-After': '3' } }),
    );
    expect(err.retryAfterMs).toBe(3000);
  });

  it('keeps the reason code of a refusal and parameters next to the English message', async () => {
    const body = {
      error: { code: 'invalid_request', message: 'a range wider than /8 is refused: …', reason: 'ban_range_too_wide', params: { prefix: 8 } },
    };
    const err = await parseError(reply(400, body));
    expect([err.code, err.reason, err.params, err.message]).toEqual(['invalid_request', 'ban_range_too_wide', { prefix: 8 }, body.error.message]);
    const plain = await parseError(reply(400, { error: { code: 'invalid_request', message: 'no reason' } }));
    expect(plain.reason).toBeUndefined();
  });
});
