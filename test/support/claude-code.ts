// Runs the real Claude Code CLI non-interactively (`claude -p`) in a throw-away HOME, for end-to-end tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const CLAUDE = join(REPO, 'node_modules/.bin/claude');
/** The version these tests were written against (pinned in the root package.json). */
export const CLAUDE_VERSION = '2.1.328';

/** Creates `home` with `.claude/settings.json` and the onboarding flag `claude -p` needs. */
export function claudeHome(home: string, settings: Record<string, unknown>): string {
  mkdirSync(join(home, '.claude'), { recursive: true });
  writeFileSync(join(home, '.claude', 'settings.json'), JSON.stringify(settings));
  writeFileSync(join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
  return home;
}

export interface ClaudeRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `claude -p prompt` with only PATH, HOME and `env` in its environment (no ANTHROPIC_API_KEY or
 * ANTHROPIC_AUTH_TOKEN leaks in: they would take precedence over apiKeyHelper), telemetry and
 * updates off. Killed after `timeoutMs`.
 */
export async function claudeP(home: string, prompt: string, env: Record<string, string | undefined>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ClaudeRun> {
  const child = spawn(CLAUDE, ['-p', prompt], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      CI: 'true',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ...env,
    },
    cwd: opts.cwd ?? home,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: (code as number | null) ?? 1, stdout, stderr };
}
