// `init`: merges apiKeyHelper (and env) into Claude Code's settings.json, keeping every other key, with a backup.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import writeFileAtomic from 'write-file-atomic';
import { ConfigError, UsageError } from '../errors.js';
import type { RunContext } from './run.js';
import { shellQuote } from './shell-quote.js';

export interface InitOptions {
  project?: string | boolean;
  helper?: string;
  baseUrl?: string;
  ttlMs?: string;
  yes?: boolean;
}

export function settingsPath(opts: InitOptions, cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  if (opts.project) return join(resolve(cwd, typeof opts.project === 'string' ? opts.project : '.'), '.claude', 'settings.json');
  return join(env.HOME || homedir(), '.claude', 'settings.json');
}

/** Merges our keys into existing settings; every other key (and other env entries) is kept as is. */
export function mergeSettings(
  existing: Record<string, unknown>,
  update: { apiKeyHelper: string; env: Record<string, string> },
): Record<string, unknown> {
  const env = { ...((existing.env as Record<string, unknown> | undefined) ?? {}), ...update.env };
  return { ...existing, apiKeyHelper: update.apiKeyHelper, ...(Object.keys(env).length ? { env } : {}) };
}

export async function runInit(ctx: RunContext, opts: InitOptions): Promise<void> {
  const { io, spec } = ctx;
  const interactive = Boolean(io.stdin.isTTY) && !opts.yes;
  let helper = opts.helper ?? (ctx.split.engine.profile ? `${spec.name} --profile ${shellQuote([ctx.split.engine.profile])}` : undefined);
  let baseUrl = opts.baseUrl;
  let ttlMs = opts.ttlMs;
  if (interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      helper = (await rl.question(`apiKeyHelper command [${helper ?? `${spec.name} --profile default`}]: `)).trim() || helper || `${spec.name} --profile default`;
      baseUrl = (await rl.question(`gateway URL (ANTHROPIC_BASE_URL) [${baseUrl ?? 'leave unset'}]: `)).trim() || baseUrl;
      ttlMs = (await rl.question(`CLAUDE_CODE_API_KEY_HELPER_TTL_MS [${ttlMs ?? '900000'}]: `)).trim() || ttlMs || '900000';
    } finally {
      rl.close();
    }
  }
  if (!helper) throw new UsageError('init needs --helper "<command>" or --profile NAME (or run it in a terminal to be asked)');
  if (baseUrl !== undefined) {
    try {
      const url = new URL(baseUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      throw new UsageError(`--base-url "${baseUrl}" is not an http(s) URL`);
    }
  }
  if (ttlMs !== undefined && !/^\d+$/.test(ttlMs)) throw new UsageError(`--ttl-ms "${ttlMs}" must be a whole number of milliseconds`);

  const path = settingsPath(opts, io.cwd, io.env);
  let existing: Record<string, unknown> = {};
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    try {
      const parsed = JSON.parse(text.trim() === '' ? '{}' : text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      existing = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`${path} is not a JSON object (${(err as Error).message}); nothing was changed`, { hint: 'fix or move it, then run init again' });
    }
    const backup = `${path}.bak-${new Date(ctx.now()).toISOString().replace(/[:.]/g, '-')}`;
    copyFileSync(path, backup);
    io.stderr(`${spec.name}: backed up ${path} to ${backup}`);
  }
  const env: Record<string, string> = {};
  if (baseUrl) env.ANTHROPIC_BASE_URL = baseUrl;
  if (ttlMs) env.CLAUDE_CODE_API_KEY_HELPER_TTL_MS = ttlMs;
  const merged = mergeSettings(existing, { apiKeyHelper: helper, env });
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
  io.stdout(`wrote apiKeyHelper${Object.keys(env).length ? ` and ${Object.keys(env).join(', ')}` : ''} to ${path}\n`);
}
