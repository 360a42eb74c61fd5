// Where claude-key keeps its files: the platform's per-user cache and config directories (env-paths).
import envPaths from 'env-paths';
import { isAbsolute, join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Cache directory; CLAUDE_KEY_CACHE_DIR overrides the platform convention (tests, shared hosts).
 * Undefined when it would not be absolute (HOME=""): a cache in the current directory could be
 * anyone's, so claude-key runs without one.
 */
export function cacheDir(appName: string, env: Env = process.env): string | undefined {
  const dir = env.CLAUDE_KEY_CACHE_DIR || envPaths(appName, { suffix: '' }).cache;
  return isAbsolute(dir) ? dir : undefined;
}

/**
 * The V8 code cache of the plain-call bundle (packages/cli/src/code-cache.ts): compiled code of
 * claude-key's own files, no token or secret. `code` under the platform's cache directory for the
 * app (the token cache's default place; CLAUDE_KEY_CACHE_DIR moves the tokens, not this);
 * CLAUDE_KEY_CODE_CACHE_DIR overrides it, `off` turns the code cache off. Undefined when off or not absolute.
 */
export function codeCacheDir(appName: string, env: Env = process.env): string | undefined {
  const set = env.CLAUDE_KEY_CODE_CACHE_DIR;
  if (set === 'off') return undefined;
  const dir = set || join(envPaths(appName, { suffix: '' }).cache, 'code');
  return isAbsolute(dir) ? dir : undefined;
}

/** Config directory (`$XDG_CONFIG_HOME/<app>` on Linux); CLAUDE_KEY_CONFIG_DIR overrides it. */
export function configDir(appName: string, env: Env = process.env): string {
  return env.CLAUDE_KEY_CONFIG_DIR || envPaths(appName, { suffix: '' }).config;
}
