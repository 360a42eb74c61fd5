// The warm path: answer from the cache using only node built-ins, or step aside for the full CLI.
//
// Claude Code runs the helper at start-up and on every TTL expiry, so this path decides how fast
// claude-key feels. It must never print anything but the token, and never fail: any doubt
// (help wanted, YAML not yet snapshotted, entry missing or not servable, a possible refusal)
// returns false and the full CLI takes over with the same inputs.
import { cacheDir } from './paths.js';
import { FileStore } from './cache/file-store.js';
import { readFileSync, statSync } from 'node:fs';
import { isServable, sha256 } from './cache/entry.js';
import { findClaudeCodeCaller } from './caller.js';
import { finalKey, type LocalSource } from './identity.js';
import {
  configPath,
  loadConfigFast,
  resolveEngineSettings,
  resolveTarget,
  splitArgs,
  invocationKey,
  type ConfigFile,
} from './invocation.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface FastPathInput {
  helperName: string;
  /** Names the helper can run as providers (commands like `cache` are never served here). */
  providers: ReadonlySet<string>;
  argv: readonly string[];
  env: Env;
  now?: number;
  write(text: string): void;
  /** The working directory (default process.cwd()). */
  cwd?: string;
  /** Injected for tests; defaults to walking the real process chain. */
  caller?: () => string | undefined;
}

/** The served-to record of `caller` for this token, if it was handed out within the TTL window. */
export function servedWithinWindow(
  records: readonly { caller: string; tokenHash: string; at: number }[],
  caller: string,
  tokenHash: string,
  now: number,
  ttlMs: number,
): boolean {
  // With no TTL Claude Code keeps a token for the whole session: any second call is a refusal.
  return records.some((r) => r.caller === caller && r.tokenHash === tokenHash && (ttlMs === 0 || now - r.at < ttlMs));
}

export function tryFastPath(input: FastPathInput): boolean {
  try {
    const split = splitArgs(input.argv);
    // --verbose wants to hear where the token came from: the full CLI says so.
    if (split.wantsHelp || split.engine.noCache || split.engine.verbose || input.env.CLAUDE_KEY_DEBUG === '1') return false;
    if (split.engine.profile === undefined && !(split.command && input.providers.has(split.command))) return false;
    const dir = cacheDir(input.helperName, input.env);
    if (dir === undefined) return false;
    const store = new FileStore(dir);
    const located = configPath(input.helperName, split.engine.config, input.env);
    let config: ConfigFile | undefined;
    if (located) {
      const loaded = loadConfigFast(located.path, store);
      if (loaded === null) return false;
      config = loaded;
    }
    const target = resolveTarget(split, config);
    const settings = resolveEngineSettings(split.engine, target.profileEngine, config?.defaults ?? {}, input.env);
    if (settings.cache !== 'file') return false;
    const identity = store.readIdentity(invocationKey(input.helperName, target, split.rest, input.cwd ?? process.cwd()));
    if (!identity) return false;
    const key = finalKey(identity, input.env);
    const now = input.now ?? Date.now();
    let token: string | undefined;
    let tokenHash: string;
    if (identity.local) {
      token = readLocal(identity.local, input.env);
      if (token === undefined) return false;
      tokenHash = sha256(token);
    } else {
      const entry = store.read(key);
      if (!entry || entry.kind !== 'token' || entry.token === null || !isServable(entry, now, settings)) return false;
      token = entry.token;
      tokenHash = entry.tokenHash;
    }
    const caller = (input.caller ?? findClaudeCodeCaller)();
    if (caller !== undefined) {
      if (servedWithinWindow(store.readServed(key), caller, tokenHash, now, settings.ttlMs)) return false;
      store.recordServed(key, { caller, tokenHash, at: now });
    }
    input.write(`${token}\n`);
    return true;
  } catch {
    return false;
  }
}

/** A local source's value as the built-in provider would read it; undefined leaves it to the full CLI (which warns or fails). */
function readLocal(source: LocalSource, env: Env): string | undefined {
  let value: string;
  if ('env' in source) {
    value = (env[source.env] ?? '').trim();
  } else {
    // A file others can read earns a warning, which only the full CLI prints.
    if (process.platform !== 'win32' && (statSync(source.file).mode & 0o044) !== 0) return undefined;
    value = readFileSync(source.file, 'utf8').trim();
  }
  return value === '' || /[\r\n]/.test(value) ? undefined : value;
}
