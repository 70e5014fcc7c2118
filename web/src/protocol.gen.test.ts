import { describe, expect, it } from 'vitest';
import { generate } from '../scripts/gen-protocol.mjs';
import schemaText from './protocol.schema.json?raw';
import committed from './protocol.gen.ts?raw';

describe('protocol.gen.ts', () => {
  it('is up to date with protocol.schema.json (run `npm run gen:protocol` after `make protocol`)', async () => {
    const fresh = await generate(JSON.parse(schemaText) as Record<string, unknown>);
    expect(committed).toBe(fresh);
  }, 30_000);
});
