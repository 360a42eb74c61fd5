// The claude-key binary's entry: answer from the cache with node built-ins only, or hand over to the full CLI.
//
// Built as one CommonJS file: Claude Code runs the helper on every TTL expiry, and a warm call
// should cost little more than Node's own start-up (docs/benchmarks.md). On a miss, a provider call
// runs that provider's plain-call bundle (one CommonJS script compiled with a V8 code cache,
// code-cache.ts); everything else, and what that bundle leaves, goes to the full CLI (ES modules).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tryFastPath } from '@claude-key/core/fast-path';
import { builtinProviderNames } from '@claude-key/core/builtin-names';
import { codeCacheDir } from '@claude-key/core/paths';
import { plainBundles, providerNames } from './providers.js';
import type { CachedScript } from './code-cache.js';

// `claude-key --help | head` closes the pipe early: that is the reader being done, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const argv = process.argv.slice(2);
const served = tryFastPath({
  helperName: 'claude-key',
  providers: new Set<string>([...builtinProviderNames, ...providerNames]),
  argv,
  env: process.env,
  write: (text) => process.stdout.write(text),
});
if (!served) {
  const name = argv[0] !== undefined && Object.hasOwn(plainBundles, argv[0]) ? plainBundles[argv[0]] : undefined;
  // Loaded here, not at the top: the warm path above must not pay for node:vm.
  if (name) import('./code-cache.js').then(({ runWithCodeCache }) => runPlain(runWithCodeCache, name), internalError);
  else runFull();
}

/**
 * A provider call on a cache miss: that provider's plain-call bundle (dist/plain/<name>.cjs) with
 * its V8 code cache. Anything but a plain token call (help, a flag left to commander) and an install
 * without the plain bundles go to the full CLI.
 */
function runPlain(runWithCodeCache: typeof import('./code-cache.js').runWithCodeCache, name: string): void {
  let script: CachedScript;
  try {
    script = runWithCodeCache(join(__dirname, 'plain', `${name}.cjs`), codeCacheDir('claude-key', process.env), name);
  } catch {
    return runFull();
  }
  (script.exports.plain as (argv: string[]) => Promise<number | undefined>)(argv).then((code) => {
    if (code === undefined) return runFull();
    if (code === 0) script.save();
    exitAfterFlush(code);
  }, internalError);
}

function runFull(): void {
  import(pathToFileURL(join(__dirname, 'full', 'main.js')).href).then(
    (full: { main(argv: string[]): Promise<number> }) => full.main(argv),
  ).then((code: number) => exitAfterFlush(code), internalError);
}

function internalError(err: unknown): void {
  process.stderr.write(`claude-key: internal error (${(err as Error)?.name ?? 'unknown'}); reinstall claude-key\n`);
  exitAfterFlush(1);
}

/**
 * The entry owns the exit: once the answer is known nothing (a provider's socket, a command that
 * ignored SIGTERM, a timer) may keep the process alive past the deadline.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}
