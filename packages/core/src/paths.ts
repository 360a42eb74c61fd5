// Where claude-key keeps its files: the platform's per-user cache and config directories (env-paths).
import envPaths from 'env-paths';

type Env = Readonly<Record<string, string | undefined>>;

/** Cache directory; CLAUDE_KEY_CACHE_DIR overrides the platform convention (tests, shared hosts). */
export function cacheDir(appName: string, env: Env = process.env): string {
  return env.CLAUDE_KEY_CACHE_DIR || envPaths(appName, { suffix: '' }).cache;
}

/** Config directory (`$XDG_CONFIG_HOME/<app>` on Linux); CLAUDE_KEY_CONFIG_DIR overrides it. */
export function configDir(appName: string, env: Env = process.env): string {
  return env.CLAUDE_KEY_CONFIG_DIR || envPaths(appName, { suffix: '' }).config;
}
