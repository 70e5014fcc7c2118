/**
 * The whole catalogue, every feature folder merged as index.ts merges it: no key
 * the code does not use (a dead key is a string translators keep paying for), and
 * every shipped language translates every key, placeholders kept.
 *
 * "Used" means the key appears as a string literal in the app's code (tests and
 * the catalogue itself do not count), or matches a key the code builds from a
 * template literal: `errors.${code}` covers every `errors.<one segment>` key.
 */
import { describe, expect, it } from 'vitest';
import { en } from './en';
import { LOCALES } from './index';
import { de } from './de';
import { fr } from './fr';
import { es } from './es';
import { ptBR } from './pt-BR';
import { ar } from './ar';
import { adminTranslations } from './admin';
import { contactsTranslations } from './contacts';
import { framecheckTranslations } from './framecheck';
import { strangersTranslations } from './strangers';

const files = import.meta.glob('../**/*.{ts,tsx}', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;
const code = Object.entries(files)
  // Paths are relative to this folder: './…' is the catalogue itself.
  .filter(([path]) => !path.startsWith('./') && !/\.test\.tsx?$/.test(path))
  .map(([, text]) => text)
  .join('\n');

const literals = new Set([...code.matchAll(/(['"`])([A-Za-z][\w-]*(?:\.[\w-]+)+)\1/g)].map((m) => m[2]!));

/** Keys the code builds: each template literal `a.b.${x}` becomes /^a\.b\.[^.]+$/. */
function builtKeys(): RegExp[] {
  const out: RegExp[] = [];
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // admin/util.tsx's label(group, value) looks up `admin.<group>.<value>`: its groups are
  // the literal first arguments of label() calls, not any admin key; a value is a server
  // enum, which may hold dots (audit actions: `ban.create`).
  const groups = new Set([...code.matchAll(/\blabel\('([\w.]+)'/g)].map((m) => m[1]!));
  for (const m of code.matchAll(/`([a-z][\w.]*\.\$\{[^`]*)`/g)) {
    const template = m[1]!;
    if (template.includes('${string}')) continue; // a type, not a key
    if (template === 'admin.${group}.${value}') {
      for (const g of groups) out.push(new RegExp(`^admin\\.${escape(g)}\\..+$`));
      continue;
    }
    const parts = template.split(/\$\{[^}]*\}/).map(escape);
    out.push(new RegExp(`^${parts.join('[^.]+')}$`));
  }
  return out;
}

const built = builtKeys();
const keys = Object.keys(en);
const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();

const mains: Record<string, Record<string, string | undefined>> = { de, fr, es, 'pt-BR': ptBR, ar };
const features = [adminTranslations, contactsTranslations, framecheckTranslations, strangersTranslations] as Array<
  Record<string, Record<string, string | undefined>>
>;
const merged = (lng: string): Record<string, string | undefined> =>
  Object.assign({}, mains[lng], ...features.map((f) => f[lng] ?? {}));

describe('the catalogue', () => {
  it('finds keys the way the code uses them (literal, or built from a template)', () => {
    expect(Object.keys(files).some((p) => p.startsWith('../contacts/'))).toBe(true);
    expect(literals.has('contacts.reportUser')).toBe(true);
    expect(built.some((re) => re.test('errors.rate_limited'))).toBe(true);
    expect(built.some((re) => re.test('messenger.err.reason.blocked_by_you'))).toBe(true);
    expect(built.some((re) => re.test('admin.scope.device'))).toBe(true);
    expect(built.some((re) => re.test('admin.audit.action.ban.create'))).toBe(true);
    expect(built.some((re) => re.test('admin.nav.reports'))).toBe(false);
    expect(built.some((re) => re.test('messenger.nothing.here'))).toBe(false);
  });

  it('holds no key the code does not use', () => {
    const unused = keys.filter((k) => !literals.has(k) && !built.some((re) => re.test(k)));
    expect(unused).toEqual([]);
  });

  it.each(LOCALES.map((l) => l.code).filter((c) => c !== 'en'))(
    '%s translates every key, with the same placeholders, and no key English lacks',
    (lng) => {
      const cat = merged(lng);
      expect(keys.filter((k) => !cat[k])).toEqual([]);
      expect(Object.keys(cat).filter((k) => !(k in en))).toEqual([]);
      const en_ = en as Record<string, string>;
      expect(keys.filter((k) => placeholders(cat[k] ?? '').join() !== placeholders(en_[k]!).join())).toEqual([]);
    },
  );
});
