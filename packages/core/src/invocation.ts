// Turns argv, the config file and the environment into one Invocation, without loading any schema library.
//
// Both the warm path and the full CLI use this, so the cache key computed to *read* a token is
// always the one used to *write* it.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, ConfigError } from './errors.js';
import { parseDuration } from './duration.js';
import { configDir } from './paths.js';
import { hashKey, type Timing } from './cache/entry.js';
import type { FileStore } from './cache/file-store.js';

type Env = Readonly<Record<string, string | undefined>>;

/** `--max-age` or `max-age` → `maxAge`: flags and profile keys as the engine and providers see them. */
export const camel = (name: string) => name.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The flags the engine owns, the one list: the warm path's argv split, commander's options and
 * every help text are made from it. They are accepted before or after the provider name.
 */
export const ENGINE_FLAGS = [
  { flag: '--profile', value: 'name', help: 'use a profile from the config file' },
  { flag: '--config', value: 'file', help: 'config file (default: $XDG_CONFIG_HOME/<helper>/config.yaml; env CLAUDE_KEY_CONFIG)' },
  { flag: '--timeout', value: 'duration', setting: true, help: 'overall deadline, e.g. 8s, 500ms, 2m (default 8s)' },
  { flag: '--ttl', value: 'duration', setting: true, help: "Claude Code's reuse window (default: CLAUDE_CODE_API_KEY_HELPER_TTL_MS)" },
  { flag: '--grace', value: 'duration', setting: true, help: 'extra validity a cached token needs beyond the TTL (default 60s)' },
  { flag: '--max-age', value: 'duration', setting: true, help: 'reuse a token with no known expiry this long (default: the TTL, or 5m)' },
  { flag: '--cache', value: 'store', setting: true, help: 'file (default), off, or a token store such as keychain' },
  { flag: '--no-cache', help: 'always fetch; never read or write the cache' },
  { flag: '--verbose', help: 'debug lines on stderr, e.g. whether the token came from the cache (never secrets)' },
] as const satisfies readonly { flag: `--${string}`; value?: string; setting?: true; help: string }[];
export type EngineFlagName = (typeof ENGINE_FLAGS)[number]['flag'];

/** The "Engine options" help block, for all flags or the named ones, aligned like commander's. */
export function engineFlagsHelp(only?: readonly EngineFlagName[]): string {
  const rows = ENGINE_FLAGS.filter((f) => !only || only.includes(f.flag)).map((f) => ['value' in f ? `${f.flag} <${f.value}>` : f.flag, f.help] as const);
  const width = Math.max(...rows.map(([usage]) => usage.length)) + 2;
  return rows.map(([usage, help]) => `  ${usage.padEnd(width)}${help}`).join('\n');
}

/** Engine settings a profile or `defaults` may set too (`max-age: 10m`), camelCase: the flags marked `setting`. */
export const ENGINE_SETTING_KEYS: readonly string[] = ENGINE_FLAGS.filter((f) => 'setting' in f).map((f) => camel(f.flag));
/** Keys of a profile that configure the engine rather than the provider. */
export const ENGINE_KEYS: readonly string[] = [...ENGINE_SETTING_KEYS, 'provider', 'description'];

export interface EngineFlags {
  profile?: string;
  config?: string;
  timeout?: string;
  ttl?: string;
  grace?: string;
  maxAge?: string;
  cache?: string;
  noCache?: boolean;
  verbose?: boolean;
}

export interface SplitArgs {
  engine: EngineFlags;
  /** First positional: a provider or a command name. */
  command?: string;
  /** Everything for the provider, in order, with engine flags removed (`--` kept). */
  rest: string[];
  /** --help, -h, --version or -V seen (only the full CLI answers those). */
  wantsHelp: boolean;
}


/** Separates engine flags from provider arguments. Stops interpreting at `--`. */
export function splitArgs(argv: readonly string[]): SplitArgs {
  const engine: Record<string, string | boolean> = {};
  const rest: string[] = [];
  let command: string | undefined;
  let wantsHelp = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const known = ENGINE_FLAGS.find((f) => f.flag === name);
    if (known && 'value' in known) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`, { hint: `e.g. ${name} <${known.value}>` });
      engine[camel(name)] = value;
    } else if (known && inline === undefined) {
      engine[camel(arg)] = true;
    } else if (arg === '--help' || arg === '-h' || arg === '--version' || arg === '-V') {
      wantsHelp = true;
      rest.push(arg);
    } else if (command === undefined && !arg.startsWith('-')) {
      command = arg;
    } else {
      rest.push(arg);
    }
  }
  return { engine: engine as EngineFlags, command, rest, wantsHelp };
}

export interface ConfigFile {
  path: string;
  defaults: Record<string, unknown>;
  profiles: Record<string, Record<string, unknown>>;
}

/** The config file path: --config, then CLAUDE_KEY_CONFIG, then the first that exists of config.{yaml,yml,json}. */
export function configPath(appName: string, flag: string | undefined, env: Env): { path: string; explicit: boolean } | undefined {
  if (flag) return { path: flag, explicit: true };
  if (env.CLAUDE_KEY_CONFIG) return { path: env.CLAUDE_KEY_CONFIG, explicit: true };
  const dir = configDir(appName, env);
  for (const name of ['config.yaml', 'config.yml', 'config.json']) {
    const path = join(dir, name);
    try {
      statSync(path);
      return { path, explicit: false };
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/** Identity of a config file's current contents, cheap to compute (no read). */
export function fileStamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export function snapshotName(path: string): string {
  return `config-${hashKey(path)}.json`;
}

/**
 * The config as the warm path can get it: JSON files are parsed directly; YAML files are read
 * from the JSON snapshot the full CLI leaves after validating them (re-made when the file's
 * stamp changes). Returns null when only the full loader can answer.
 */
export function loadConfigFast(path: string, store: FileStore): ConfigFile | null {
  const stamp = fileStamp(path);
  if (stamp === undefined) return null;
  try {
    const snap = JSON.parse(store.readNamed(snapshotName(path)) ?? 'null') as { stamp?: string; config?: ConfigFile };
    if (snap.stamp === stamp && snap.config) return snap.config;
  } catch {
    // no snapshot yet
  }
  return null;
}

/** Profile keys may be written kebab-case or camelCase; providers see camelCase. */
export function normaliseKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[camel(k)] = v;
  return out;
}

export type CacheMode = 'file' | 'off' | (string & {});

export interface EngineSettings extends Timing {
  timeoutMs: number;
  maxAgeMs: number;
  cache: CacheMode;
  verbose: boolean;
}

export const DEFAULT_TIMEOUT_MS = 8000;
export const DEFAULT_GRACE_MS = 60_000;
/** Max-age for tokens without expiry when Claude Code's TTL is unknown. */
export const DEFAULT_MAX_AGE_WITHOUT_TTL_MS = 300_000;

function duration(name: string, value: unknown, source: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ms = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) throw new UsageError(`${source} ${name} "${String(value)}" is not a duration; use e.g. 30s, 5m, 1h or seconds`);
  return ms;
}

/** Engine settings: flag, then profile, then config defaults, then environment, then built-in defaults. */
export function resolveEngineSettings(
  flags: EngineFlags,
  profile: Record<string, unknown>,
  defaults: Record<string, unknown>,
  env: Env,
): EngineSettings {
  const pick = (name: 'timeout' | 'ttl' | 'grace' | 'maxAge', flagName: string) =>
    duration(flagName, flags[name], 'flag') ?? duration(name, profile[name], 'profile') ?? duration(name, defaults[name], 'defaults');
  let envTtl: number | undefined;
  if (env.CLAUDE_CODE_API_KEY_HELPER_TTL_MS) {
    envTtl = Number(env.CLAUDE_CODE_API_KEY_HELPER_TTL_MS);
    if (!Number.isInteger(envTtl) || envTtl < 0) {
      throw new UsageError(`CLAUDE_CODE_API_KEY_HELPER_TTL_MS="${env.CLAUDE_CODE_API_KEY_HELPER_TTL_MS}" is not a whole number of milliseconds`);
    }
  }
  const ttlMs = pick('ttl', '--ttl') ?? envTtl ?? 0;
  const cache = flags.noCache ? 'off' : String(flags.cache ?? profile.cache ?? defaults.cache ?? 'file');
  return {
    ttlMs,
    timeoutMs: pick('timeout', '--timeout') ?? DEFAULT_TIMEOUT_MS,
    graceMs: pick('grace', '--grace') ?? DEFAULT_GRACE_MS,
    maxAgeMs: pick('maxAge', '--max-age') ?? (ttlMs > 0 ? ttlMs : DEFAULT_MAX_AGE_WITHOUT_TTL_MS),
    cache,
    verbose: flags.verbose === true,
  };
}

export interface ResolvedTarget {
  /** Provider name or package. */
  provider: string;
  profileName?: string;
  /** Provider options from the profile (engine keys removed, camelCase). */
  profileOptions: Record<string, unknown>;
  /** The profile's engine keys. */
  profileEngine: Record<string, unknown>;
}

/** Which provider runs, with which profile options. */
export function resolveTarget(split: SplitArgs, config: ConfigFile | undefined): ResolvedTarget {
  const profileName = split.engine.profile;
  if (profileName === undefined) {
    if (!split.command) throw new UsageError('name a provider (e.g. claude-key exec -- CMD) or a profile (--profile NAME)');
    return { provider: split.command, profileOptions: {}, profileEngine: {} };
  }
  const raw = config?.profiles[profileName];
  if (!raw) {
    const known = config ? Object.keys(config.profiles) : [];
    throw new ConfigError(
      `profile "${profileName}" is not defined${config ? ` in ${config.path}` : ' (no config file found)'}`,
      { hint: known.length ? `known profiles: ${known.join(', ')}` : 'add it under "profiles:" in the config file' },
    );
  }
  const profile = normaliseKeys(raw);
  const provider = typeof profile.provider === 'string' ? profile.provider : undefined;
  if (!provider) throw new ConfigError(`profile "${profileName}" has no "provider" key`);
  if (split.command !== undefined && split.command !== provider) {
    throw new UsageError(`--profile ${profileName} uses provider "${provider}", not "${split.command}"`);
  }
  const profileOptions: Record<string, unknown> = {};
  const profileEngine: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(profile)) {
    if (ENGINE_KEYS.includes(k)) profileEngine[k] = v;
    else profileOptions[k] = v;
  }
  return { provider, profileName, profileOptions, profileEngine };
}

/**
 * The key of an invocation as typed: argv, profile options, helper, working directory, and the
 * purpose when a command sets one (otel-headers; the warm path serves apiKeyHelper only). It finds the
 * IdentityRecord the full CLI resolved for it; the token itself is keyed by that identity.
 */
export function invocationKey(helperName: string, target: ResolvedTarget, rest: readonly string[], cwd: string, purpose?: string): string {
  return hashKey({ h: helperName, p: target.provider, o: target.profileOptions, a: rest, c: cwd, ...(purpose ? { u: purpose } : {}) });
}
