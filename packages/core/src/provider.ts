// The provider contract: the one interface every claude-key credential source implements. Read this first.
//
// A provider turns validated options into a Credential and does nothing else. The core owns
// everything around it: argv and config parsing, caching aligned to Claude Code's TTL,
// cross-process locking, refusal detection, the deadline, stdout, stderr and exit codes.
// A provider never prints, never caches on its own, never calls process.exit.
import type { z } from 'zod';
import type { IdentityBuilder, LocalSource, Purpose } from './identity.js';

export type { IdentityBuilder, LocalSource, Purpose } from './identity.js';

/**
 * What a fetch is for, from validated and resolved options: the cache key and the refusal record
 * are keyed by it (plus the purpose), so a token is only ever printed where it was fetched for.
 */
export interface ProviderIdentity {
  /**
   * JSON-able values that name the token: absolute paths (`id.path`), addresses, names, and
   * secret references through `id.ref` (names and value hashes, never a secret itself). Include
   * `id.cwd` only when the token depends on the working directory (a command, a relative path).
   */
  inputs: unknown;
  /** A local source (an env var, a file): read on every call and never copied into the cache. */
  local?: LocalSource;
}

/** What a provider hands back. */
export interface Credential {
  /** The secret itself. The core prints it once to stdout and registers it for redaction. */
  token: string;
  /**
   * When the token stops being accepted, in milliseconds since the epoch. Leave it out when
   * unknown: the core then caches the token for the configured max-age (default: the TTL).
   */
  expiresAt?: number;
  /** Non-secret facts shown by `claude-key cache status` (e.g. `{ version: 3, leaseId: '…' }`). */
  meta?: Record<string, string | number | boolean>;
}

/** Minimal logger handed to providers; every line goes through the core's redaction first. */
export interface ProviderLogger {
  /** One line on stderr, always shown. Use sparingly: Claude Code may surface it. */
  warn(message: string): void;
  /** Shown only with `--verbose`. */
  debug(message: string): void;
}

/** A value a provider may cache through the engine (e.g. Vault's login token). */
export interface CachedValue {
  value: string;
  /** Milliseconds since the epoch; omit for "until maxAgeMs". */
  expiresAt?: number;
}

/**
 * Everything the core offers a provider during one fetch. Providers use these instead of
 * reaching for globals, which keeps them testable with an injected clock and environment.
 */
export interface ProviderContext {
  /** Aborted when the overall deadline (`--timeout`) is hit. Pass it to every network call. */
  signal: AbortSignal;
  /** The injected clock, in milliseconds since the epoch. Use it for every expiry decision. */
  now(): number;
  /** The environment the helper runs in (never mutate). */
  env: Readonly<Record<string, string | undefined>>;
  /** The working directory relative paths and commands resolve against (the one in the identity). */
  cwd: string;
  /** Claude Code's reuse window in ms (CLAUDE_CODE_API_KEY_HELPER_TTL_MS or --ttl); 0 when unknown. */
  ttlMs: number;
  /** Extra validity a served token needs beyond the TTL, in ms (default 60 s). */
  graceMs: number;
  /**
   * True when this fetch happens because Claude Code's gateway refused the previously served
   * token (HTTP 401 and an immediate re-run). Providers that mint tokens must mint a new one.
   */
  refused: boolean;
  log: ProviderLogger;
  /**
   * Caches a secondary value (a login token, a signing key handle) in the engine's store, keyed
   * by `name` and `keyParts`. `load` runs only on a miss or when the value expires within
   * `minValidityMs` (default 30 s). Returns the cached or freshly loaded value.
   */
  cached(
    name: string,
    keyParts: unknown,
    load: () => Promise<CachedValue>,
    opts?: { minValidityMs?: number; maxAgeMs?: number },
  ): Promise<string>;
  /** Drops a value stored with `cached` (e.g. after the server said the login token is revoked). */
  forget(name: string, keyParts: unknown): Promise<void>;
  /**
   * Resolves a secret reference from config or flags: `env:NAME`, `file:/path` (`~` expanded),
   * `profile:NAME` (another profile, through the engine), a scheme the helper registers
   * (claude-key: `keychain:service/account`), or a literal (discouraged; `doctor` warns). The value
   * comes back trimmed; a missing variable, file or entry is a NotFoundError (exit 6).
   */
  secret(ref: string): Promise<string>;
}

/** A named extra command a provider ships, e.g. `claude-key jwt keygen`. Runs outside the engine. */
export interface ProviderCommand<S extends z.ZodType = z.ZodType> {
  summary: string;
  /** Options for this command; become `--kebab-case` flags like a provider's own. */
  options: S;
  /** Shown under `--help` as "Example:" lines. */
  examples?: string[];
  /** Name of one option filled from positional arguments (an array option takes them all). */
  positional?: string;
  run(options: z.output<S>, io: CommandIO): Promise<void>;
}

/** What an extra command may touch. Output meant for the user goes to `stdout`. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of stdin, or prompts without echo on a TTY. */
  readSecret(prompt: string): Promise<string>;
  isInteractive: boolean;
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  /** The same context a fetch gets, for commands that read secrets or other profiles. */
  context: ProviderContext;
}

export interface Provider<S extends z.ZodType = z.ZodType> {
  /** The subcommand name (`vault`), or the package name for plugin providers. */
  name: string;
  /** One line for `claude-key --help`. */
  summary: string;
  /**
   * Options schema (a zod object). Each key becomes a `--kebab-case` flag and a profile key;
   * `.describe()` texts become the help. Validation errors name the bad field.
   */
  options: S;
  /** Real `apiKeyHelper` lines for `--help` and the README. */
  examples?: string[];
  /** Name of one option filled from positional arguments (e.g. exec's `command`). */
  positional?: string;
  /**
   * Environment variables whose values change the token (e.g. `VAULT_ADDR`). Their values are part
   * of the identity, so switching them never serves a token fetched under other values.
   */
  env?: readonly string[];
  /**
   * The identity of what `fetch` would return for these options. Required: a provider without it
   * is never cached (the contract check in `@claude-key/core/testing` fails it). Pure and fast:
   * no network, no prompts. Environment variables listed in `env` are added by the engine.
   */
  identity(options: z.output<S>, id: IdentityBuilder): ProviderIdentity;
  /** The Claude Code hook this provider's output is for (default `apiKeyHelper`). */
  purpose?: Purpose;
  /** Option keys that hold secret material; doctor warns when they are literals, not refs. */
  secretOptions?: readonly string[];
  /** Extra commands (`keygen`, `login`, `set`). */
  commands?: Record<string, ProviderCommand>;
  /** The one job: options in, credential out. Throw a ClaudeKeyError subclass on failure. */
  fetch(options: z.output<S>, ctx: ProviderContext): Promise<Credential>;
}

/** Identity helper that keeps full type inference for a provider's options. */
export function defineProvider<S extends z.ZodType>(provider: Provider<S>): Provider<S> {
  return provider;
}

export function defineCommand<S extends z.ZodType>(command: ProviderCommand<S>): ProviderCommand<S> {
  return command;
}

/**
 * How a helper binary knows a provider without loading it: the name and summary for `--help`,
 * and a loader run only when the cache cannot answer (so the warm path never loads an SDK).
 */
export interface ProviderEntry {
  name: string;
  summary: string;
  load(): Promise<Provider | { default: Provider }>;
}

/**
 * Where the engine keeps cached token values when the user picks a store other than files
 * (`--cache keychain`). Metadata (expiry, who was served) stays in the file cache; only the
 * secret value moves. A package exports it as `tokenStore`.
 */
export interface TokenStore {
  name: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}
