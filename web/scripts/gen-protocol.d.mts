// Types for scripts/gen-protocol.mjs (imported by src/protocol.gen.test.ts).
export declare const BANNER: string;
export declare const SCHEMA_PATH: string;
export declare const OUTPUT_PATH: string;
/** The TypeScript source of src/protocol.gen.ts for a parsed protocol.schema.json document. */
export declare function generate(schema: Record<string, unknown>): Promise<string>;
