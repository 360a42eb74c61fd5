// createHelper: one call that turns a list of providers into a complete helper binary (claude-key, or a branded one).
import { builtinProviders } from './builtin/index.js';
import { tryFastPath } from './fast-path.js';
import type { ProviderEntry, TokenStore } from './provider.js';
import type { HelperIO } from './cli/io.js';
import type { SecretScheme } from './secret-ref.js';
import type { PlainOptions } from './cli/plain-flags.js';

export type { PlainOptions } from './cli/plain-flags.js';

export interface HelperSpec {
  /** Binary name; also names the cache and config directories (`~/.cache/<name>`). */
  name: string;
  version?: string;
  description?: string;
  /** Providers besides the built-ins (env, file, exec). */
  providers: ProviderEntry[];
  /** Token stores for `--cache <name>`, loaded only when used (e.g. keychain). */
  tokenStores?: Record<string, () => Promise<TokenStore>>;
  /** Secret-reference schemes besides env: and file: (e.g. `keychain`), loaded only when a reference uses one. */
  secretSchemes?: Record<string, () => Promise<SecretScheme>>;
  /** Extra directories searched for plugin provider packages. */
  pluginDirs?: string[];
  /** Leave out env/file/exec. */
  withoutBuiltins?: boolean;
  /**
   * Providers' options as plain data (flags and checks, by provider name), made at build time by
   * describePlainOptions (cli/flags.ts; scripts/bundle.mjs for claude-key): a token call of such a provider
   * is then parsed and checked without building or running its zod schema.
   */
  plainOptions?: Readonly<Record<string, PlainOptions>>;
  /** Tests: an injected clock and caller identity. */
  now?: () => number;
  caller?: () => string | undefined;
}

export interface Helper {
  readonly spec: HelperSpec;
  /** Runs with these arguments; resolves to the exit code (the caller sets process.exitCode). */
  run(argv?: readonly string[], io?: HelperIO): Promise<number>;
  /** The full CLI without trying the warm path first (for an entry point that already tried it). */
  runFull(argv?: readonly string[], io?: HelperIO): Promise<number>;
  /** A plain token call only: its exit code, or undefined (nothing done or printed) for anything runFull must handle. */
  runPlain(argv?: readonly string[], io?: HelperIO): Promise<number | undefined>;
}

export function createHelper(spec: HelperSpec): Helper {
  const full: HelperSpec = { ...spec, providers: [...(spec.withoutBuiltins ? [] : builtinProviders), ...spec.providers] };
  const names = new Set(full.providers.map((p) => p.name));
  const runFull = async (argv: readonly string[] = process.argv.slice(2), io?: HelperIO) => {
    const [{ runCli }, { processIO }] = await Promise.all([import('./cli/run.js'), import('./cli/io.js')]);
    return runCli(full, argv, io ?? processIO());
  };
  const runPlain = async (argv: readonly string[] = process.argv.slice(2), io?: HelperIO) => {
    const [{ runPlainCli }, { processIO }] = await Promise.all([import('./cli/run.js'), import('./cli/io.js')]);
    return runPlainCli(full, argv, io ?? processIO());
  };
  return {
    spec: full,
    runFull,
    runPlain,
    async run(argv = process.argv.slice(2), io) {
      const env = io?.env ?? process.env;
      const write = io ? io.stdout : (text: string) => process.stdout.write(text);
      const fastInput = { helperName: full.name, providers: names, argv, env, write, ...(full.caller ? { caller: full.caller } : {}) };
      if (tryFastPath(full.now ? { ...fastInput, now: full.now() } : fastInput)) return 0;
      return runFull(argv, io);
    },
  };
}
