// Test support for provider authors: a ProviderContext without the engine, and a contract check.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedValue, Credential, Provider, ProviderContext } from './provider.js';
import { isClaudeKeyError } from './errors.js';
import { identityBuilder } from './identity.js';
import { stableStringify } from './cache/entry.js';

export interface TestContextOptions {
  /** Start time of the injected clock (ms since epoch). Advance with `ctx.advance(ms)`. */
  now?: number;
  env?: Record<string, string | undefined>;
  /** Working directory (default: process.cwd()). */
  cwd?: string;
  ttlMs?: number;
  graceMs?: number;
  refused?: boolean;
  signal?: AbortSignal;
  /** Extra secret references, e.g. `{ 'profile:ci': 'token' }`. */
  secrets?: Record<string, string>;
}

export interface TestContext extends ProviderContext {
  advance(ms: number): void;
  /** Lines the provider logged (already what the user would see). */
  logs: { level: 'warn' | 'debug'; message: string }[];
  /** How many times each `cached` name ran its loader. */
  loads: Map<string, number>;
}

/** A ProviderContext backed by memory and a manual clock, for unit tests of one provider. */
export function createTestContext(opts: TestContextOptions = {}): TestContext {
  let clock = opts.now ?? Date.UTC(2026, 0, 1);
  const env = opts.env ?? {};
  const store = new Map<string, CachedValue & { storedAt: number }>();
  const logs: TestContext['logs'] = [];
  const loads = new Map<string, number>();
  const keyOf = (name: string, parts: unknown) => `${name}:${JSON.stringify(parts)}`;
  const ctx: TestContext = {
    signal: opts.signal ?? new AbortController().signal,
    now: () => clock,
    advance: (ms) => {
      clock += ms;
    },
    env,
    cwd: opts.cwd ?? process.cwd(),
    ttlMs: opts.ttlMs ?? 0,
    graceMs: opts.graceMs ?? 60_000,
    refused: opts.refused ?? false,
    logs,
    loads,
    log: {
      warn: (message) => logs.push({ level: 'warn', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    },
    async cached(name, keyParts, load, o = {}) {
      const key = keyOf(name, keyParts);
      const hit = store.get(key);
      const minValidity = o.minValidityMs ?? 30_000;
      if (hit) {
        const expiry = hit.expiresAt ?? (o.maxAgeMs !== undefined ? hit.storedAt + o.maxAgeMs : Infinity);
        if (expiry - clock >= minValidity) return hit.value;
      }
      loads.set(name, (loads.get(name) ?? 0) + 1);
      const fresh = await load();
      store.set(key, { ...fresh, storedAt: clock });
      return fresh.value;
    },
    async forget(name, keyParts) {
      store.delete(keyOf(name, keyParts));
    },
    async secret(ref) {
      if (opts.secrets && ref in opts.secrets) return opts.secrets[ref]!;
      if (ref.startsWith('env:')) {
        const value = env[ref.slice(4)];
        if (value === undefined) throw new Error(`test context: ${ref} is not set`);
        return value;
      }
      if (ref.startsWith('file:')) return (await readFile(ref.slice(5), 'utf8')).trim();
      return ref;
    },
  };
  return ctx;
}

export interface ContractCase {
  /** Raw options as a user would write them in a profile (before schema parsing). */
  options: Record<string, unknown>;
  context?: TestContextOptions;
}

/**
 * Checks the parts of the provider contract that every provider must honour. Throws an Error
 * describing the first violation; returns the credential fetched for `valid` otherwise.
 *  - name, summary, options schema and fetch are present;
 *  - `invalid` options are rejected by the schema (config errors name a field);
 *  - `valid` options produce a credential with a non-empty single-line token and a sane expiry;
 *  - `identity` is declared, JSON-able, stable for equal inputs, and holds no secret of the valid case;
 *  - an already-aborted signal makes fetch settle within 500 ms (a provider that ignores
 *    `ctx.signal` and keeps working past the deadline fails here);
 *  - `failing` options throw a ClaudeKeyError (a code and exit code), never a bare Error, and
 *    the message does not contain the secret of the valid case.
 */
export async function checkProviderContract(
  provider: Provider,
  cases: { valid: ContractCase; invalid?: Record<string, unknown>; failing?: ContractCase },
): Promise<Credential> {
  for (const key of ['name', 'summary'] as const) {
    if (typeof provider[key] !== 'string' || provider[key].length === 0) throw new Error(`provider.${key} must be a non-empty string`);
  }
  if (typeof provider.fetch !== 'function') throw new Error('provider.fetch must be a function');
  if (typeof provider.options?.safeParse !== 'function') throw new Error('provider.options must be a zod schema');
  if (typeof provider.identity !== 'function') throw new Error('provider.identity must be a function (the cache keys tokens by it)');

  if (cases.invalid) {
    const parsed = provider.options.safeParse(cases.invalid);
    if (parsed.success) throw new Error('provider.options accepted the invalid options');
    if (!parsed.error.issues.some((i) => i.path.length > 0)) throw new Error('schema errors must name the bad field');
  }

  const options = provider.options.parse(cases.valid.options);
  const ctx = createTestContext(cases.valid.context);
  const credential = await provider.fetch(options, ctx);
  if (typeof credential?.token !== 'string' || credential.token.length === 0) throw new Error('fetch must return a non-empty token');
  if (/[\r\n]/.test(credential.token)) throw new Error('the token must be a single line');
  if (credential.expiresAt !== undefined && (!Number.isFinite(credential.expiresAt) || credential.expiresAt <= ctx.now())) {
    throw new Error('expiresAt must be a future time in ms since the epoch');
  }

  checkIdentity(provider, options, cases.valid.context?.env ?? {}, credential.token);

  const aborted = new AbortController();
  aborted.abort(new DOMException('deadline', 'TimeoutError'));
  let timer: NodeJS.Timeout | undefined;
  const abortedResult = await Promise.race([
    provider.fetch(options, createTestContext({ ...cases.valid.context, signal: aborted.signal })).then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 500, 'hung');
    }),
  ]);
  clearTimeout(timer);
  // A provider that needs no I/O (env, a literal) may legitimately resolve; it must not keep working.
  if (abortedResult === 'hung') throw new Error('fetch ignored an aborted ctx.signal: still running 500 ms after the deadline');

  if (cases.failing) {
    try {
      await provider.fetch(provider.options.parse(cases.failing.options), createTestContext(cases.failing.context));
      throw new Error('the failing case did not fail');
    } catch (err) {
      if (!isClaudeKeyError(err)) throw new Error(`failures must be ClaudeKeyError subclasses, got: ${String(err)}`);
      if (err.message.includes(credential.token)) throw new Error('an error message contains the token');
    }
  }
  return credential;
}

function checkIdentity(provider: Provider, options: unknown, env: Record<string, string | undefined>, token: string): void {
  const declare = (cwd: string) => {
    const collected = identityBuilder({ cwd, env, profile: () => ({}) });
    const identity = provider.identity(options as never, collected.builder);
    if (typeof identity !== 'object' || identity === null || !('inputs' in identity)) throw new Error('provider.identity must return { inputs }');
    return stableStringify(identity);
  };
  const first = declare('/contract/a');
  if (first !== declare('/contract/a')) throw new Error('provider.identity must return the same identity for the same inputs');
  if (first.includes(token)) throw new Error('provider.identity must not contain the token (use id.ref for secrets)');
}

/**
 * A throw-away home for helper runs: `dir` with working dirs `a` and `b`, and an environment whose
 * HOME, cache and config dirs point inside it (PATH kept). Removed when the test process exits.
 */
export interface SandboxEnv {
  [name: string]: string;
  PATH: string;
  HOME: string;
  CLAUDE_KEY_CACHE_DIR: string;
  CLAUDE_KEY_CONFIG_DIR: string;
}

export function helperSandbox(prefix = 'ck-sandbox-'): { dir: string; env: SandboxEnv } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['a', 'b', 'config']) mkdirSync(join(dir, sub));
  const env = { PATH: process.env.PATH ?? '', HOME: dir, CLAUDE_KEY_CACHE_DIR: join(dir, 'cache'), CLAUDE_KEY_CONFIG_DIR: join(dir, 'config') };
  return { dir, env };
}
