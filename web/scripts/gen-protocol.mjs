#!/usr/bin/env node
/**
 * Generates src/protocol.gen.ts from src/protocol.schema.json (the JSON Schema
 * the server writes from its pydantic models: `connect protocol`, `make protocol`).
 *
 *   npm run gen:protocol            write src/protocol.gen.ts
 *   npm run gen:protocol -- --check exit 1 if the committed file is out of date
 *
 * Output: one exported type per `$defs` entry, plus `ClientEvents` /
 * `ServerEvents` (event name → payload type) from `x-client-events` /
 * `x-server-events`. `generate()` is also used by src/protocol.gen.test.ts,
 * which fails when the committed file drifts from the schema.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

export const BANNER = '// generated from protocol.schema.json by scripts/gen-protocol.mjs — do not edit';

const WRAPPER = '__ConnectProtocolDefs';

const here = new URL('.', import.meta.url);
export const SCHEMA_PATH = fileURLToPath(new URL('../src/protocol.schema.json', here));
export const OUTPUT_PATH = fileURLToPath(new URL('../src/protocol.gen.ts', here));

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Pydantic puts a `title` on every property ("Token", "Peerid", ...);
 * json-schema-to-typescript would turn each into a named type alias. Keep
 * titles only on the `$defs` roots, so only those become named types.
 */
function stripNestedTitles(node, isDefRoot) {
  if (Array.isArray(node)) return node.map((n) => stripNestedTitles(n, false));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'title' && !isDefRoot) continue;
    // `properties` is a name → schema map: its keys are field names, not keywords.
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v).map(([f, s]) => [f, stripNestedTitles(s, false)]));
    } else {
      out[k] = stripNestedTitles(v, false);
    }
  }
  return out;
}

function eventMap(name, events, defs) {
  const lines = [`export interface ${name} {`];
  for (const [event, def] of Object.entries(events ?? {})) {
    if (!(def in defs)) throw new Error(`${name}: event "${event}" refers to unknown definition "${def}"`);
    lines.push(`  '${event.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}': ${def};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** The TypeScript source for a parsed protocol.schema.json document. */
export async function generate(schema) {
  const rawDefs = schema.$defs ?? {};
  const names = Object.keys(rawDefs);
  for (const n of names) {
    if (!IDENT.test(n)) throw new Error(`definition name is not a TypeScript identifier: ${n}`);
    if (rawDefs[n].title !== undefined && rawDefs[n].title !== n)
      throw new Error(`definition ${n} has title ${JSON.stringify(rawDefs[n].title)}; it must match its name`);
  }
  const defs = Object.fromEntries(names.map((n) => [n, { ...stripNestedTitles(rawDefs[n], true), title: n }]));

  // A wrapper whose properties reference every definition, so each one is emitted
  // once, under its own name, in $defs order. The wrapper itself is dropped below.
  const wrapper = {
    title: WRAPPER,
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(names.map((n) => [n, { $ref: `#/$defs/${n}` }])),
    required: names,
    $defs: defs,
  };

  let ts = await compile(wrapper, WRAPPER, {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    unknownAny: true,
    // interests has maxItems 10: keep it `string[]`, not a union of tuples.
    maxItems: -1,
    ignoreMinAndMaxItems: true,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
    declareExternallyReferenced: true,
    unreachableDefinitions: false,
  });

  // Drop the wrapper interface.
  const wrapperDecl = new RegExp(`export interface ${WRAPPER} \\{[^}]*\\}\\n*`);
  if (!wrapperDecl.test(ts)) throw new Error('gen-protocol: wrapper interface not found in compiler output');
  ts = ts.replace(wrapperDecl, '');

  // An object with no properties and additionalProperties: false is `{}` on the wire;
  // `interface X {}` would accept any non-null value, Record<string, never> does not.
  ts = ts.replace(/export interface (\w+) \{\}/g, 'export type $1 = Record<string, never>;');

  // One blank line between top-level declarations.
  ts = ts.replace(/([;}])\n(?=export |\/\*\*)/g, '$1\n\n');

  // The one map the contract has: an error's `params` (strings and integers by name).
  // Any other index signature means a schema left additionalProperties open by mistake.
  if (/\[k: string\]: (?!string \| number \| undefined;)/.test(ts))
    throw new Error('gen-protocol: unexpected index signature in output (additionalProperties?)');
  for (const n of names) {
    if (!new RegExp(`export (interface|type) ${n}\\b`).test(ts)) throw new Error(`gen-protocol: no type emitted for ${n}`);
  }

  return [
    BANNER,
    '',
    ts.trim(),
    '',
    '/** Client → server events: event name → payload (`x-client-events`). */',
    eventMap('ClientEvents', schema['x-client-events'], rawDefs),
    '',
    '/** Server → client events: event name → payload (`x-server-events`). */',
    eventMap('ServerEvents', schema['x-server-events'], rawDefs),
    '',
  ].join('\n');
}

async function main() {
  const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8'));
  const ts = await generate(schema);
  if (process.argv.includes('--check')) {
    const current = await readFile(OUTPUT_PATH, 'utf8').catch(() => '');
    if (current !== ts) {
      console.error('src/protocol.gen.ts is out of date: run `npm run gen:protocol`');
      process.exit(1);
    }
    return;
  }
  await writeFile(OUTPUT_PATH, ts);
  console.log(`wrote ${OUTPUT_PATH}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
