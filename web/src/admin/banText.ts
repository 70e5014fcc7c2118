/**
 * What a typed ban value will match, in the moderator's language. The server
 * checks and normalises the value (POST /api/admin/bans/preview) and names what
 * it matches as a code with parameters (`descriptionCode`, `descriptionParams`),
 * said here from the catalogue (`admin.bans.describe.<code>`). Its English
 * `description` is only the fallback for a server without codes: then the common
 * cases (a device id, an address hash, an IPv4 address or range) are worked out
 * here, and the rest keep the server's words.
 */
import { getLocale, hasKey, t } from '../i18n';
import type { BanScope } from './types';
import { fmtNumber } from './util';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
const HASH = /^[0-9a-f]{32}(?:\/\d{1,3})?$/;
const DIGITS = /^\d+$/;

/** The preview's reply (POST /api/admin/bans/preview). */
export interface BanPreviewReply {
  value: string;
  description: string;
  descriptionCode?: string;
  descriptionParams?: Record<string, string | number>;
}

/** "203.0.113.9/24" → the network and its size; null when not plain IPv4. */
export function ipv4Network(typed: string): { address: string; prefix: number; count: number } | null {
  const m = IPV4.exec(typed.trim());
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return null;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const base = value - (value % size);
  const address = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join('.');
  return { address, prefix, count: size };
}

/**
 * A count of addresses in the active locale. It comes as a decimal string: an
 * IPv6 range holds more addresses than a JavaScript number keeps exactly.
 */
export function fmtCount(count: string | number): string {
  if (typeof count === 'number') return fmtNumber(count);
  if (!DIGITS.test(count)) return count;
  return new Intl.NumberFormat(getLocale()).format(BigInt(count));
}

export function describeBan(scope: BanScope, typed: string, reply: BanPreviewReply): string {
  const code = reply.descriptionCode;
  const key = `admin.bans.describe.${code ?? ''}`;
  if (code && hasKey(key)) {
    const params = { ...(reply.descriptionParams ?? {}) };
    if (params.count !== undefined) params.count = fmtCount(params.count);
    return t(key, params);
  }
  return describeWithoutCode(scope, typed, reply);
}

/** An older server's answer: say the common cases from the catalogue, keep its words otherwise. */
function describeWithoutCode(scope: BanScope, typed: string, reply: BanPreviewReply): string {
  const v = typed.trim();
  if (scope === 'device') return t('admin.bans.describe.device', { value: reply.value });
  if (scope !== 'ip') return reply.description;
  if (HASH.test(v)) return t('admin.bans.describe.hash');
  const net = ipv4Network(v);
  if (!net) return reply.description;
  if (net.prefix === 32) return t('admin.bans.describe.address', { address: net.address });
  return t('admin.bans.describe.range', { range: `${net.address}/${net.prefix}`, count: fmtNumber(net.count) });
}

/**
 * A ban's reason as the dashboard shows it: staff's own words as typed, an automatic
 * ban's (worded by the server) from the catalogue by its `reasonCode`.
 */
export function banReason(b: { reason: string; reasonCode?: string; reasonParams?: Record<string, string | number> }): string {
  const key = `admin.bans.reasonCode.${b.reasonCode ?? ''}`;
  return b.reasonCode && hasKey(key) ? t(key, b.reasonParams ?? {}) : b.reason;
}
