// The one secret-reference resolver: `env:NAME`, `file:PATH` and the schemes packages register (`keychain:`).
//
// The engine (ctx.secret) and the gateway (upstream keys) both resolve references through this, so
// `~` expansion, trimming and the errors (exit 6 for a missing variable or file) are the same.
// `profile:NAME` is not here: it runs another profile through the engine, which only the engine can.
import { homedir } from 'node:os';
import { AuthError, ConfigError, NotFoundError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What resolving a reference may use. */
export interface SecretRefContext {
  env: Env;
  /** The caller's deadline; a scheme that does I/O passes it on. */
  signal?: AbortSignal;
  /** One stderr line (e.g. a secret file other users can read). */
  warn(message: string): void;
}

/**
 * A reference scheme a package provides, e.g. provider-keychain's `keychain:SERVICE/ACCOUNT`.
 * A helper registers it by name (`HelperSpec.secretSchemes`), so the core never names a provider.
 */
export interface SecretScheme {
  /** The reference's shape for messages and help, e.g. `keychain:SERVICE/ACCOUNT`. */
  usage: string;
  /** `rest` is what follows `<scheme>:`. Throw a ClaudeKeyError (NotFoundError when it is absent). */
  resolve(rest: string, ctx: SecretRefContext): Promise<string>;
}

/** Finds a registered scheme by name; undefined when none is registered under it. */
export type SchemeLookup = (name: string) => Promise<SecretScheme | undefined> | SecretScheme | undefined;

export function expandHome(path: string, env: Env = process.env): string {
  return path === '~' || path.startsWith('~/') ? (env.HOME || homedir()) + path.slice(1) : path;
}

/**
 * The scheme of `ref` (`env` in `env:NAME`), or undefined for a literal. Only a lower-case word
 * counts, so `https://...` and `C:\...` stay literals.
 */
export function referenceScheme(ref: string): string | undefined {
  return /^([a-z][a-z0-9-]*):/.exec(ref)?.[1];
}

/** Resolves `env:`, `file:` and registered schemes; text without a scheme (or a URL) is a literal. */
export async function resolveSecretRef(ref: string, ctx: SecretRefContext, schemes?: SchemeLookup): Promise<string> {
  const scheme = referenceScheme(ref);
  if (scheme === undefined) return ref;
  const rest = ref.slice(scheme.length + 1);
  if (scheme === 'env') return readEnvSecret(rest, ctx.env);
  if (scheme === 'file') return readSecretFile(rest, ctx.env, ctx);
  const registered = await schemes?.(scheme);
  if (!registered) {
    // A URL is a literal; any other `word:` is a reference this helper cannot resolve, and sending
    // it on as a literal secret would fail later and far away.
    if (rest.startsWith('//')) return ref;
    throw new ConfigError(`"${scheme}:" references are not available here`, { hint: 'use env:NAME or file:PATH, or install the package that provides them' });
  }
  const value = (await registered.resolve(rest, ctx)).trim();
  if (!value) throw new NotFoundError(`${ref} is empty`, { hint: `store a value there, or change the reference` });
  return value;
}

/** The variable's value, trimmed; unset or blank is "does not exist" (exit 6). */
export function readEnvSecret(name: string, env: Env): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new NotFoundError(`environment variable ${name} is not set`, { hint: `export ${name}=... where Claude Code starts, or change the reference` });
  }
  return value;
}

/** The file's contents, trimmed; warns when other users can read it. Missing is exit 6, unreadable exit 3. */
export async function readSecretFile(path: string, env: Env, log: { warn(m: string): void }): Promise<string> {
  const full = expandHome(path, env);
  // On first use: at the top, node:fs/promises loads ~9 more Node modules (fs streams, readline,
  // watchers) on every cold call, which a call without a secret file never needs.
  const { readFile, stat } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new NotFoundError(`secret file ${full} does not exist`, { hint: 'check the path' });
    if (code === 'EACCES') throw new AuthError(`cannot read secret file ${full} (permission denied)`, { hint: 'check its owner and mode (0600)' });
    throw new ConfigError(`cannot read secret file ${full} (${code ?? 'error'})`, { hint: 'check the path' });
  }
  if (process.platform !== 'win32') {
    const mode = (await stat(full)).mode & 0o777;
    if (mode & 0o044) log.warn(`${full} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${full}`);
  }
  const value = text.trim();
  if (!value) throw new NotFoundError(`secret file ${full} is empty`, { hint: 'write the secret into it, or change the path' });
  return value;
}
