// Bundles the claude-key binary in two parts:
//  - dist/claude-key.cjs: the warm path, one CommonJS file using node built-ins only (no ES module
//    loader start-up, no chunk files to resolve), so a cached token costs about a bare Node start;
//  - dist/full/: the full CLI as ES modules with code splitting, imported only on a cache miss.
// Provider packages (and their SDKs) stay outside both and load from node_modules when used.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

const outdir = 'packages/cli/dist';
rmSync(`${outdir}/full`, { recursive: true, force: true });
rmSync(`${outdir}/chunks`, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  conditions: ['source'],
  external: ['@claude-key/provider-*', '@napi-rs/keyring'],
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['packages/cli/src/warm.ts'],
  outfile: `${outdir}/claude-key.cjs`,
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(`${outdir}/claude-key.cjs`, 0o755);

await build({
  ...common,
  entryPoints: { main: 'packages/cli/src/full.ts' },
  outdir: `${outdir}/full`,
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies bundled into ESM still expect require, __filename and __dirname.
  banner: {
    js: [
      "import { createRequire as __ckRequire } from 'node:module';",
      "import { fileURLToPath as __ckPath } from 'node:url';",
      'const require = __ckRequire(import.meta.url);',
      'const __filename = __ckPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
});
console.log(`bundled ${outdir}/claude-key.cjs and ${outdir}/full/`);
