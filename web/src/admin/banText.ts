/**
 * What a typed ban value will match, in the moderator's language. The server
 * checks and normalises the value (POST /api/admin/bans/preview) and words its
 * answer in English; the common cases (a device id, an address hash, an IPv4
 * address or range) are said again here from the catalogue, the rest (an
 * account's name and email, IPv6) keep the server's words.
 */
import { t } from '../i18n';
import type { BanScope } from './types';
import { fmtNumber } from './util';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
const HASH = /^[0-9a-f]{32}(?:\/\d{1,3})?$/;

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

export function describeBan(scope: BanScope, typed: string, value: string, serverText: string): string {
  const v = typed.trim();
  if (scope === 'device') return t('admin.bans.describe.device', { value });
  if (scope !== 'ip') return serverText;
  if (HASH.test(v)) return t('admin.bans.describe.hash');
  const net = ipv4Network(v);
  if (!net) return serverText;
  if (net.prefix === 32) return t('admin.bans.describe.address', { address: net.address });
  return t('admin.bans.describe.range', { range: `${net.address}/${net.prefix}`, count: fmtNumber(net.count) });
}
