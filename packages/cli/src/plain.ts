// The plain-call bundle's entry (dist/plain/<provider>.cjs, see scripts/bundle.mjs): a token call
// such as `claude-key vault --path x --field y` on a cache miss, in one CommonJS script that warm.ts
// compiles with a V8 code cache (code-cache.ts). Resolves to undefined for anything else (help, a
// flag the plain parser leaves to commander), which warm.ts then hands to the full CLI (full.ts).
import { helper } from './helper.js';
import { quietWarnings } from './full.js';

export async function plain(argv: string[]): Promise<number | undefined> {
  quietWarnings(argv);
  return helper.runPlain(argv);
}
