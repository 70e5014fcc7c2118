/**
 * ALTCHA v2 proof-of-work for the gateway's `captcha-required` event.
 *
 * The challenge is `{parameters: {algorithm, cost, keyLength, keyPrefix, nonce, salt, expiresAt}, signature}`;
 * it is solved with the `altcha` package's own solver (`altcha/lib` solveChallenge + the key
 * derivation that matches `parameters.algorithm`), loaded lazily so the visitor bundle stays
 * small until a CAPTCHA is actually needed. The answer goes back as `captcha-solution {payload}`,
 * where payload is base64 of JSON `{"challenge": <challenge>, "solution": {"counter", "derivedKey"}}`
 * — the Payload format altcha's verify_solution accepts.
 */

export interface AltchaParameters {
  algorithm: string;
  nonce: string;
  salt: string;
  cost: number;
  keyLength: number;
  keyPrefix: string;
  expiresAt?: number;
  [extra: string]: unknown;
}

export interface AltchaChallenge {
  parameters: AltchaParameters;
  signature?: string;
}

export interface AltchaSolution {
  counter: number;
  derivedKey: string;
}

/** Solves a challenge; null when it gave up (timeout/abort). */
export type CaptchaSolver = (challenge: AltchaChallenge, signal?: AbortSignal) => Promise<AltchaSolution | null>;

export function isAltchaChallenge(v: unknown): v is AltchaChallenge {
  if (!v || typeof v !== 'object') return false;
  const p = (v as { parameters?: unknown }).parameters as Record<string, unknown> | undefined;
  return (
    !!p &&
    typeof p === 'object' &&
    typeof p.algorithm === 'string' &&
    typeof p.nonce === 'string' &&
    typeof p.salt === 'string' &&
    typeof p.keyPrefix === 'string' &&
    typeof p.cost === 'number'
  );
}

/** UTF-8 safe base64. */
export function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** base64(JSON {challenge, solution: {counter, derivedKey}}) for captcha-solution. */
export function encodeAltchaPayload(challenge: AltchaChallenge, solution: AltchaSolution): string {
  const ch: Record<string, unknown> = { parameters: challenge.parameters };
  if (challenge.signature !== undefined) ch.signature = challenge.signature;
  return toBase64(JSON.stringify({ challenge: ch, solution: { counter: solution.counter, derivedKey: solution.derivedKey } }));
}

/** The default solver: altcha's solveChallenge on the main thread (it yields every ~200 ms). */
export const solveAltcha: CaptchaSolver = async (challenge, signal) => {
  const lib = await import('altcha/lib');
  const alg = challenge.parameters.algorithm.toUpperCase();
  const deriveKey = alg.startsWith('PBKDF2')
    ? lib.pbkdf2.deriveKey
    : alg.startsWith('SCRYPT')
      ? lib.scrypt.deriveKey
      : alg.startsWith('ARGON2')
        ? lib.argon2id.deriveKey
        : lib.sha.deriveKey;
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const solution = await lib.solveChallenge({
    challenge: challenge as Parameters<typeof lib.solveChallenge>[0]['challenge'],
    deriveKey,
    controller,
  });
  return solution ? { counter: solution.counter, derivedKey: solution.derivedKey } : null;
};
