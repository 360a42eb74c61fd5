// Bundles the claude-key binary: one small entry for the warm path, lazily loaded chunks for the rest.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

const outdir = 'packages/cli/dist';
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'claude-key': 'packages/cli/src/main.ts' },
  outdir: `${outdir}`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: false,
  conditions: ['source'],
  // Provider packages (and their SDKs) load from node_modules only on a cache miss.
  external: ['@claude-key/provider-*', '@napi-rs/keyring'],
  banner: {
    // CommonJS dependencies bundled into ESM still expect require, __filename and __dirname.
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __ckRequire } from 'node:module';",
      "import { fileURLToPath as __ckPath } from 'node:url';",
      'const require = __ckRequire(import.meta.url);',
      'const __filename = __ckPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
chmodSync(`${outdir}/claude-key.js`, 0o755);
console.log(`bundled ${outdir}/claude-key.js`);
