import { describe, expect, it } from 'vitest';
import { createChallenge, sha, verifySolution } from 'altcha/lib';
import { encodeAltchaPayload, isAltchaChallenge, solveAltcha, toBase64, type AltchaChallenge } from './captcha';

describe('ALTCHA v2 solver', () => {
  it('solves a v2 SHA-256 challenge and the payload verifies', async () => {
    const hmacSignatureSecret = 'test-secret';
    const challenge = await createChallenge({
      algorithm: 'SHA-256',
      cost: 1,
      counter: 300,
      deriveKey: sha.deriveKey,
      hmacSignatureSecret,
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(isAltchaChallenge(challenge)).toBe(true);
    const solution = await solveAltcha(challenge as AltchaChallenge);
    expect(solution).not.toBeNull();
    const payload = JSON.parse(atob(encodeAltchaPayload(challenge as AltchaChallenge, solution!)));
    expect(Object.keys(payload).sort()).toEqual(['challenge', 'solution']);
    expect(Object.keys(payload.solution).sort()).toEqual(['counter', 'derivedKey']);
    const res = await verifySolution({
      challenge: payload.challenge,
      solution: payload.solution,
      deriveKey: sha.deriveKey,
      hmacSignatureSecret,
    });
    expect(res.verified).toBe(true);
  });

  it('rejects things that are not challenges and base64-encodes UTF-8', () => {
    expect(isAltchaChallenge(null)).toBe(false);
    expect(isAltchaChallenge({ algorithm: 'SHA-256', challenge: 'x', salt: 's' })).toBe(false);
    expect(new TextDecoder().decode(Uint8Array.from(atob(toBase64('é✓')), (c) => c.charCodeAt(0)))).toBe('é✓');
  });
});
