// Bundles the claude-key binary in two parts:
//  - dist/claude-key.cjs: the warm path, one CommonJS file using node built-ins only (no ES module
//    loader start-up, no chunk files to resolve), so a cached token costs about a bare Node start;
//  - dist/full/: the full CLI as ES modules with code splitting, imported only on a cache miss.
// The warm entry has no provider code; the full CLI bundles most providers, each in its own chunk
// loaded only when that provider is used (see BUNDLE_EXTERNAL for the ones that stay outside).
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';

// With code splitting, esbuild turns `await import('some-commonjs-package')` into a chunk whose
// only export is `default` (module.exports), so `(await import('yaml')).parse` was undefined in the
// bundle while the TypeScript source, run by tsx, worked. Node itself gives a CommonJS module named
// exports too; this plugin does the same: a dynamic import of a CommonJS package goes through a
// small ES module that re-exports module.exports' keys by name (read from the package at build time).
const commonJsNamedExports = {
  name: 'commonjs-named-exports',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData?.inner) return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
      if (found.errors.length || found.external || !isCommonJs(found.path)) return undefined;
      return { path: args.path, namespace: 'cjs-named', pluginData: { resolveDir: args.resolveDir, file: found.path } };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-named' }, (args) => {
      const mod = createRequire(args.pluginData.file)(args.pluginData.file);
      const names = Object.keys(mod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && k !== '__esModule');
      const spec = JSON.stringify(args.path);
      return {
        resolveDir: args.pluginData.resolveDir,
        contents: `const m = require(${spec});\nexport default m;\n${names.length ? `export const { ${names.join(', ')} } = m;\n` : ''}`,
      };
    });
  },
};

// Tree-shaking needs ES modules. Under platform node, @smithy/* and @aws-crypto/* resolve to their
// CommonJS builds (their exports list "node" before "import"), which esbuild keeps whole: signing
// with @smithy/signature-v4 on the `aws` cold path pulled in all of @smithy/core's serde, protocols
// and client code (166 KB). An import from an ES module (our sources, or these packages' own ES
// builds) takes the package's ES build instead, so only the functions used are bundled. The SDK
// clients are CommonJS and require() them: they keep the CommonJS builds, in their own chunks.
const smithyEsBuilds = {
  name: 'smithy-es-builds',
  setup(b) {
    b.onResolve({ filter: /^@(smithy|aws-crypto)\// }, async (args) => {
      if (args.pluginData?.inner || (args.kind !== 'import-statement' && args.kind !== 'dynamic-import')) return undefined;
      if (!/\.[cm]?ts$|\/dist-es\/|\/build\/module\//.test(args.importer)) return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
      if (found.errors.length || found.external) return undefined;
      const es = esBuildOf(args.path, found.path);
      return es ? { path: es } : undefined;
    });
  },
};

/** The ES build a package declares for `spec` (exports' module/import, else its module field), found from the resolved CommonJS file. */
function esBuildOf(spec, file) {
  const [scope, name, ...rest] = spec.split('/');
  const subpath = rest.length ? `./${rest.join('/')}` : '.';
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pkgFile = join(dir, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    if (pkg.name !== `${scope}/${name}`) continue;
    const entry = typeof pkg.exports === 'object' ? pkg.exports[subpath] : undefined;
    const target = entry && typeof entry === 'object' ? (typeof entry.module === 'string' ? entry.module : entry.import) : subpath === '.' ? pkg.module : undefined;
    return typeof target === 'string' ? join(dir, target) : undefined;
  }
  return undefined;
}

/** A .cjs file, or a .js file whose nearest package.json does not say "type": "module". */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) return JSON.parse(readFileSync(pkg, 'utf8')).type !== 'module';
  }
  return true;
}

// CommonJS dependencies bundled into ESM still expect require, __filename and __dirname: esbuild
// puts this banner on every file of the split build.
const COMMONJS_GLOBALS = [
  "import { createRequire as __ckRequire } from 'node:module';",
  "import { fileURLToPath as __ckPath } from 'node:url';",
  'const require = __ckRequire(import.meta.url);',
  'const __filename = __ckPath(import.meta.url);',
  "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
].join('\n');

/**
 * Takes the banner off the files that never name require, __filename or __dirname (most chunks of
 * our own code): each copy costs a createRequire and a fileURLToPath when the chunk loads, a few
 * percent of a cold call over ~20 chunks. Free names survive minification, so a file without
 * them cannot use the banner's bindings; a mere mention in a string keeps the banner, harmlessly.
 */
function dropUnusedCommonJsGlobals(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    const text = readFileSync(file, 'utf8');
    if (!text.startsWith(`${COMMONJS_GLOBALS}\n`)) continue;
    const rest = text.slice(COMMONJS_GLOBALS.length + 1);
    if (!/\b(require|__filename|__dirname)\b/.test(rest)) writeFileSync(file, rest);
  }
}

// The code runPlainCli knows (built by tsc before this script runs).
const { NEEDS_ZOD } = await import('../packages/core/dist/cli/plain-flags.js');
const outdir = 'packages/cli/dist';
const BUNDLE_EXTERNAL = ['@claude-key/provider-keychain', '@claude-key/provider-oidc', '@napi-rs/keyring'];
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

const full = await build({
  ...common,
  metafile: true,
  entryPoints: { main: 'packages/cli/src/full.ts' },
  outdir: `${outdir}/full`,
  // Providers whose code and SDKs bundle cleanly go in their own chunks, sharing the bundle's one
  // copy of core and zod (from node_modules, a provider's own import of @claude-key/core loaded a
  // second, unbundled core and zod: ~100 ES modules to resolve and compile on every cache miss).
  // Left external: keychain (a native addon), oidc (`open` finds its xdg-open script next to itself).
  external: BUNDLE_EXTERNAL,
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [smithyEsBuilds, commonJsNamedExports],
  banner: { js: COMMONJS_GLOBALS },
});
dropUnusedCommonJsGlobals(`${outdir}/full`);

// The plain-call bundles: dist/plain/<provider>.cjs, one CommonJS script per provider package with
// the plain token call (packages/cli/src/plain.ts), core, zod (but for aws: withoutZod) and that
// provider, with its option tables (plainOptionTables); warm.ts compiles it
// with a V8 code cache (packages/cli/src/code-cache.ts). What a plain call loads only sometimes
// stays out of the script and comes from the full build's chunks above: the other providers (a
// `profile:` reference; their own copy of core, as a plugin provider has, which core's error brand
// allows) and the third-party packages imported on demand (an SDK client, YAML, google-auth-library).
// Commander never: a call the plain parser leaves to it goes to the full build as a whole.
rmSync(`${outdir}/plain`, { recursive: true, force: true });
const PLAIN_PROVIDERS = ['vault', 'aws', 'gcp', 'jwt'];
// Plain-call bundles without zod (withoutZod below): their providers build their option schemas on
// first use only, so a plain call needs none. The others' providers build theirs at import.
const WITHOUT_ZOD = new Set(['aws']);
const fullEntries = new Map();
for (const [file, out] of Object.entries(full.metafile.outputs)) if (out.entryPoint) fullEntries.set(out.entryPoint, file);
const plainOptions = await plainOptionTables();
for (const name of PLAIN_PROVIDERS) {
  const file = `${outdir}/plain/${name}.cjs`;
  await build({
    ...common,
    entryPoints: ['packages/cli/src/plain.ts'],
    outfile: file,
    external: [...BUNDLE_EXTERNAL],
    format: 'cjs',
    // The script runs in a function of code-cache.ts: no import.meta, no import() (see there). Its
    // providers' options come as plain data (packages/cli/src/helper.ts), so a token call builds
    // and runs no zod schema.
    define: { 'import.meta.url': '__ckImportMetaUrl', __CK_PLAIN_OPTIONS__: JSON.stringify(plainOptions[name] ?? {}) },
    banner: { js: 'var __ckImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [...(WITHOUT_ZOD.has(name) ? [withoutZod()] : []), fromFullBuild(`@claude-key/provider-${name}`, dirname(file), fullEntries), smithyEsBuilds],
  });
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(/(?<![\w$.])import\(/g, '__ckImport(');
  if (/\bimport\s*\(/.test(rewritten)) throw new Error(`${file}: an import() the rewrite missed`);
  writeFileSync(file, rewritten);
}
console.log(`bundled ${outdir}/plain/{${PLAIN_PROVIDERS.join(',')}}.cjs`);

/**
 * For a plain-call bundle that leaves zod out (about half of such a bundle, and a measurable part
 * of a cold call to load, docs/benchmarks.md): `zod` becomes a stand-in with zod's export names.
 * Its functions, and any property of its other exports, throw an error with the code core's
 * runPlainCli knows (NEEDS_ZOD in packages/core/src/cli/plain-flags.ts): the call goes to the full
 * CLI, whose zod checks and words it as ever. A token call whose options the plain tables pass
 * reaches none of them (the providers' schemas are built on first use only), nor does a config
 * file the full CLI has validated before (its snapshot).
 * `config` (zod's settings, run.ts sets one) has nothing to set here.
 */
function withoutZod() {
  return {
    name: 'without-zod',
    setup(b) {
      b.onResolve({ filter: /^zod(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'without-zod', pluginData: { resolveDir: args.resolveDir } }));
      b.onLoad({ filter: /.*/, namespace: 'without-zod' }, (args) => {
        const zod = createRequire(join(args.pluginData.resolveDir, 'x.js'))(args.path);
        const names = Object.keys(zod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && k !== 'config');
        const stand = (k) => (typeof zod[k] === 'function' ? 'needsZod' : 'noValue');
        return {
          loader: 'js',
          contents: [
            // Branded as a claude-key error, so that a provider or the engine passes it on as it is
            // (a `profile:` reference's options checked inside another provider's fetch).
            `const needsZod = () => { throw Object.assign(new Error("this call needs zod: the full CLI takes it"), { code: ${JSON.stringify(NEEDS_ZOD)}, [Symbol.for("claude-key.error")]: true }); };`,
            'const noValue = new Proxy({}, { get: needsZod, has: needsZod });',
            'export const config = () => {};',
            `export { ${names.map((k) => `${stand(k)} as ${k}`).join(', ')} };`,
          ].join('\n'),
        };
      });
    },
  };
}

/**
 * The plain-call bundles' providers' options as plain data (describePlainOptions in core's
 * cli/flags.ts), by bundle and provider name: read from the providers' zod schemas by running
 * them, bundled from source into a temporary script.
 */
async function plainOptionTables() {
  const dir = mkdtempSync(join(tmpdir(), 'claude-key-plain-options-'));
  try {
    const file = join(dir, 'tables.cjs');
    await build({
      ...common,
      external: [...BUNDLE_EXTERNAL],
      minify: false,
      format: 'cjs',
      outfile: file,
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) },
      stdin: {
        resolveDir: resolve('packages/cli/src'),
        loader: 'ts',
        contents: [
          "import { describePlainOptions } from '../../core/src/cli/flags.ts';",
          "import { plainBundles, providers } from './providers.ts';",
          'export async function tables() {',
          '  const out = {};',
          '  for (const [name, bundle] of Object.entries(plainBundles)) {',
          '    const provider = await providers.find((p) => p.name === name).load();',
          '    (out[bundle] ??= {})[name] = describePlainOptions(provider.options);',
          '  }',
          '  return out;',
          '}',
        ].join('\n'),
      },
    });
    return await createRequire(file)(file).tables();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * For a plain-call bundle: a dynamic import of another provider package, of a third-party package
 * that the full build put in a chunk of its own, or of the commander program (run.ts's runCli,
 * never called there) becomes an import of that chunk.
 */
function fromFullBuild(ownProvider, fromDir, entries) {
  return {
    name: 'from-full-build',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData?.inner || args.path === ownProvider) return undefined;
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (found.errors.length || found.external) return undefined;
        const file = relative(process.cwd(), found.path);
        const wanted = args.path.startsWith('@claude-key/provider-') || found.path.includes('/node_modules/') || file === 'packages/core/src/cli/program.ts';
        const chunk = wanted && (entries.get(`cjs-named:${args.path}`) ?? entries.get(file));
        return chunk ? { path: `./${relative(fromDir, chunk)}`, external: true } : undefined;
      });
    },
  };
}
console.log(`bundled ${outdir}/claude-key.cjs and ${outdir}/full/`);
