// The claude-key binary's entry: answer from the cache with node built-ins only, or hand over to the full CLI.
//
// Built as one CommonJS file: Claude Code runs the helper on every TTL expiry, and a warm call
// should cost little more than Node's own start-up (docs/benchmarks.md). The full CLI is an ES
// module bundle loaded only on a miss.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tryFastPath } from '@claude-key/core/fast-path';
import { builtinProviderNames } from '@claude-key/core/builtin-names';
import { providerNames } from './providers.js';

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
  import(pathToFileURL(join(__dirname, 'full', 'main.js')).href).then(
    (full: { main(argv: string[]): Promise<number> }) => full.main(argv),
  ).then(
    (code: number) => exitAfterFlush(code),
    (err: unknown) => {
      process.stderr.write(`claude-key: internal error (${(err as Error)?.name ?? 'unknown'}); reinstall claude-key\n`);
      exitAfterFlush(1);
    },
  );
}

/**
 * The entry owns the exit: once the answer is known nothing (a provider's socket, a command that
 * ignored SIGTERM, a timer) may keep the process alive past the deadline.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}
