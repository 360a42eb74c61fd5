// The warm path: answer from the cache using only node built-ins, or step aside for the full CLI.
//
// Claude Code runs the helper at start-up and on every TTL expiry, so this path decides how fast
// claude-key feels. It must never print anything but the token, and never fail: any doubt
// (help wanted, YAML not yet snapshotted, entry missing or not servable, a possible refusal)
// returns false and the full CLI takes over with the same inputs.
import { cacheDir } from './paths.js';
import { FileStore } from './cache/file-store.js';
import { envHash, isServable } from './cache/entry.js';
import { findClaudeCodeCaller } from './caller.js';
import {
  configPath,
  loadConfigFast,
  resolveEngineSettings,
  resolveTarget,
  splitArgs,
  tokenCacheKey,
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
    const located = configPath(input.helperName, split.engine.config, input.env);
    let config: ConfigFile | undefined;
    if (located) {
      const loaded = loadConfigFast(located.path, dir);
      if (loaded === null) return false;
      config = loaded;
    }
    const target = resolveTarget(split, config);
    const settings = resolveEngineSettings(split.engine, target.profileEngine, config?.defaults ?? {}, input.env);
    if (settings.cache !== 'file') return false;
    const store = new FileStore(dir);
    const key = tokenCacheKey(input.helperName, target, split.rest);
    const entry = store.read(key);
    if (!entry || entry.kind !== 'token' || entry.token === null) return false;
    if (envHash(entry.envNames, input.env) !== entry.envHash) return false;
    const now = input.now ?? Date.now();
    if (!isServable(entry, now, settings)) return false;
    const caller = (input.caller ?? findClaudeCodeCaller)();
    if (caller !== undefined) {
      if (servedWithinWindow(store.readServed(key), caller, entry.tokenHash, now, settings.ttlMs)) return false;
      store.recordServed(key, { caller, tokenHash: entry.tokenHash, at: now });
    }
    input.write(`${entry.token}\n`);
    return true;
  } catch {
    return false;
  }
}
