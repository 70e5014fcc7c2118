/**
 * The one-click widen after `match-timeout`: which criteria the server says
 * still narrow the search, and the join-queue criteria without them (sent with
 * `update: true` so the place in the queue is kept).
 */
import type { JoinQueue } from '../protocol';

export type WidenKind = 'language' | 'country' | 'interests';
export const WIDEN_KINDS: readonly WidenKind[] = ['language', 'country', 'interests'];

/** Keeps only known kinds, in the contract's order, without duplicates (server input is untrusted). */
export function parseWidenKinds(raw: unknown): WidenKind[] {
  if (!Array.isArray(raw)) return [];
  return WIDEN_KINDS.filter((k) => raw.includes(k));
}

/** The criteria minus what `drop` names (all suggested kinds when omitted). */
export function widenCriteria(criteria: JoinQueue, drop: readonly WidenKind[]): JoinQueue {
  const out: JoinQueue = { ...criteria };
  if (drop.includes('language')) delete out.language;
  if (drop.includes('country')) {
    delete out.countries;
    out.country = 'any';
  }
  if (drop.includes('interests')) delete out.interests;
  return out;
}

/** A hint is worth showing when the visitor set something that narrows the search. */
export function narrowedBy(criteria: JoinQueue | null): WidenKind[] {
  if (!criteria) return [];
  const c = criteria;
  const out: WidenKind[] = [];
  if (c.language) out.push('language');
  if ((c.countries && c.countries.length) || c.country === 'mine') out.push('country');
  if (c.interests && c.interests.length) out.push('interests');
  return out;
}
