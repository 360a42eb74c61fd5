// Pins every engine rule: TTL alignment, max-age, refusal detection, single flight, storage, stale-if-error, deadline.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Engine, type EngineDeps, type TokenRequest } from './engine.js';
import { FileStore } from './cache/file-store.js';
import { defineProvider, type Credential, type Provider, type ProviderContext } from './provider.js';
import { UnreachableError, isClaudeKeyError } from './errors.js';
import type { EngineSettings } from './invocation.js';
import { finalKey } from './identity.js';

const tempDirs: string[] = [];
/** A temp dir removed after the suite. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

interface Harness {
  engine: Engine;
  store: FileStore;
  clock: { now: number };
  caller: { id: string | undefined };
  warnings: string[];
  calls: () => number;
  request(overrides?: Partial<EngineSettings>, provider?: Provider): TokenRequest;
  /** The cache key the default request resolves to. */
  key(): string;
}

/** A provider whose tokens count up and expire `lifetimeMs` after minting (undefined: no expiry). */
function countingProvider(lifetimeMs: number | undefined, impl?: (n: number, ctx: ProviderContext) => Promise<Credential>) {
  let n = 0;
  const provider = defineProvider({
    name: 'counter',
    summary: 'test',
    options: z.object({}),
    env: ['COUNTER_REGION'],
    identity: () => ({ inputs: { counter: true } }),
    async fetch(_opts, ctx) {
      n++;
      if (impl) return impl(n, ctx);
      return lifetimeMs === undefined ? { token: `token-${n}-abcdef` } : { token: `token-${n}-abcdef`, expiresAt: ctx.now() + lifetimeMs };
    },
  });
  return { provider, calls: () => n };
}

function harness(
  opts: { lifetimeMs?: number; impl?: (n: number, ctx: ProviderContext) => Promise<Credential>; dir?: string; cacheDir?: string | null; env?: Record<string, string> } = {},
): Harness {
  const dir = opts.dir ?? tempDir('ck-engine-');
  const store = new FileStore(opts.cacheDir === null ? undefined : (opts.cacheDir ?? join(dir, 'cache')));
  const clock = { now: T0 };
  const caller = { id: undefined as string | undefined };
  const warnings: string[] = [];
  const { provider, calls } = countingProvider('lifetimeMs' in opts ? opts.lifetimeMs : 60 * MIN, opts.impl);
  const deps: EngineDeps = {
    helperName: 'claude-key-test',
    store,
    env: opts.env ?? { COUNTER_REGION: 'eu' },
    now: () => clock.now,
    caller: () => caller.id,
    log: { warn: (m) => warnings.push(m), debug: () => {} },
    tokenStore: async () => {
      throw new Error('no token stores in this test');
    },
    profileToken: async () => 'unused',
    profileContent: () => undefined,
  };
  const engine = new Engine(deps);
  const request = (overrides: Partial<EngineSettings> = {}, p: Provider = provider): TokenRequest => ({
    invocationKey: 'a'.repeat(40),
    cwd: dir,
    provider: p,
    label: 'counter',
    options: {},
    settings: { ttlMs: 15 * MIN, graceMs: MIN, timeoutMs: 2000, maxAgeMs: 15 * MIN, cache: 'file', verbose: false, ...overrides },
  });
  return {
    engine,
    store,
    clock,
    caller,
    warnings,
    calls,
    request,
    key: () => finalKey(engine.identity(request())!, deps.env),
  };
}

test('serves a cached token while it stays valid for TTL + grace, and fetches anew once it would not', async () => {
  const h = harness({ lifetimeMs: 30 * MIN });
  const first = await h.engine.getToken(h.request());
  assert.equal(first.source, 'fresh');
  h.clock.now += 14 * MIN; // 16 min left >= 15 min TTL + 1 min grace
  assert.equal((await h.engine.getToken(h.request())).token, first.token);
  assert.equal(h.calls(), 1);
  h.clock.now += 1 * MIN + 1; // 15 min - 1 ms left < TTL + grace
  const third = await h.engine.getToken(h.request());
  assert.equal(third.source, 'fresh');
  assert.notEqual(third.token, first.token);
  assert.equal(h.calls(), 2);
});

test('a configured grace widens the margin a cached token needs', async () => {
  const h = harness({ lifetimeMs: 30 * MIN });
  await h.engine.getToken(h.request());
  h.clock.now += 10 * MIN; // 20 min left
  await h.engine.getToken(h.request({ graceMs: 6 * MIN })); // needs 21 min
  assert.equal(h.calls(), 2);
});

test('caches a token without expiry for max-age, which defaults to the TTL', async () => {
  const h = harness({ lifetimeMs: undefined });
  const first = await h.engine.getToken(h.request({ maxAgeMs: 5 * MIN }));
  h.clock.now += 5 * MIN - 1;
  assert.equal((await h.engine.getToken(h.request({ maxAgeMs: 5 * MIN }))).token, first.token);
  h.clock.now += 1;
  assert.notEqual((await h.engine.getToken(h.request({ maxAgeMs: 5 * MIN }))).token, first.token);
  assert.equal(h.calls(), 2);
});

test('a second call from the same Claude Code process within its TTL means refused: a fresh token, never the refused one again', async () => {
  const h = harness({ lifetimeMs: 60 * MIN });
  h.caller.id = '4242:1000';
  const first = await h.engine.getToken(h.request());
  h.clock.now += 2_000; // Claude Code got a 401 and re-ran us at once
  const second = await h.engine.getToken(h.request());
  assert.equal(second.source, 'fresh');
  assert.notEqual(second.token, first.token);
  // Another Claude Code process gets the new token from the cache, not the refused one.
  h.caller.id = '5151:2000';
  const other = await h.engine.getToken(h.request());
  assert.equal(other.source, 'cache');
  assert.equal(other.token, second.token);
  assert.equal(h.calls(), 2);
  const entry = h.store.read(h.key())!;
  assert.equal(entry.refused.length, 1);
});

test('a call from a different Claude Code process still gets the cached token', async () => {
  const h = harness({ lifetimeMs: 60 * MIN });
  h.caller.id = '100:1';
  const first = await h.engine.getToken(h.request());
  h.caller.id = '200:1';
  const second = await h.engine.getToken(h.request());
  assert.equal(second.source, 'cache');
  assert.equal(second.token, first.token);
  assert.equal(h.calls(), 1);
});

test('the same process calling again after its TTL window is a normal refresh, not a refusal', async () => {
  const h = harness({ lifetimeMs: 60 * MIN });
  h.caller.id = '100:1';
  const first = await h.engine.getToken(h.request());
  h.clock.now += 15 * MIN; // TTL over: Claude Code re-runs the helper in the background
  const again = await h.engine.getToken(h.request()); // 45 min left >= 16 min: still servable
  assert.equal(again.source, 'cache');
  assert.equal(again.token, first.token);
  assert.equal(h.calls(), 1);
});

test('a pid reused by another process (different start time) is not mistaken for a refusal', async () => {
  const h = harness({ lifetimeMs: 60 * MIN });
  h.caller.id = '300:111';
  await h.engine.getToken(h.request());
  h.caller.id = '300:222';
  assert.equal((await h.engine.getToken(h.request())).source, 'cache');
});

test('with no TTL set, any repeat call from the same Claude Code process is a refusal', async () => {
  const h = harness({ lifetimeMs: 600 * MIN });
  h.caller.id = '77:1';
  const first = await h.engine.getToken(h.request({ ttlMs: 0 }));
  h.clock.now += 120 * MIN;
  const second = await h.engine.getToken(h.request({ ttlMs: 0 }));
  assert.notEqual(second.token, first.token);
});

test('fails with an auth error when the provider hands back the token the gateway just refused', async () => {
  const h = harness({ impl: async (_n, ctx) => ({ token: 'static-secret-value', expiresAt: ctx.now() + 60 * MIN }) });
  h.caller.id = '9:9';
  await h.engine.getToken(h.request());
  await assert.rejects(h.engine.getToken(h.request()), (err: unknown) => {
    assert.ok(isClaudeKeyError(err));
    assert.equal(err.code, 'AUTH');
    assert.ok(!err.message.includes('static-secret-value'));
    return true;
  });
});

test('32 concurrent callers on an empty cache make exactly one provider call and get the same token', async () => {
  const dir = tempDir('ck-flight-');
  let providerCalls = 0;
  const engines = Array.from({ length: 32 }, () =>
    harness({
      dir,
      impl: async (_n, ctx) => {
        providerCalls++;
        await new Promise((r) => setTimeout(r, 150));
        return { token: `shared-${providerCalls}-xyz`, expiresAt: ctx.now() + 60 * MIN };
      },
    }),
  );
  const results = await Promise.all(engines.map((h) => h.engine.getToken(h.request({ timeoutMs: 8000 }))));
  assert.equal(providerCalls, 1);
  assert.equal(new Set(results.map((r) => r.token)).size, 1);
});

test('a lock file left by a killed holder does not delay the next fetch (the OS lock died with it)', async () => {
  const h = harness();
  h.store.ensureDir();
  writeFileSync(h.store.lockPath(h.key()), '');
  const result = await h.engine.getToken(h.request({ timeoutMs: 1500 }));
  assert.equal(result.source, 'fresh');
});

test('stores entries 0600 in a 0700 directory it creates, and never changes the mode of one it did not create', async () => {
  const h = harness();
  await h.engine.getToken(h.request());
  assert.equal(statSync(h.store.dir!).mode & 0o777, 0o700);
  for (const name of readdirSync(h.store.dir!).filter((n) => n.endsWith('.json'))) {
    assert.equal(statSync(join(h.store.dir!, name)).mode & 0o777, 0o600, name);
  }
  const mine = harness({ cacheDir: join(tempDir('ck-own-'), 'cache') });
  mkdirSync(mine.store.dir!, { mode: 0o750 });
  chmodSync(mine.store.dir!, 0o750);
  assert.equal((await mine.engine.getToken(mine.request())).source, 'fresh');
  assert.equal((await mine.engine.getToken(mine.request())).source, 'cache');
  assert.equal(statSync(mine.store.dir!).mode & 0o777, 0o750);
});

test('a symlinked cache dir (even to a shared 1777 dir) is refused: one warning, the token fetched uncached, the target untouched', async () => {
  const base = tempDir('ck-symdir-');
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  symlinkSync(shared, join(base, 'cache'));
  const h = harness({ dir: base });
  const first = await h.engine.getToken(h.request());
  const second = await h.engine.getToken(h.request());
  assert.equal(first.source, 'uncached');
  assert.equal(second.source, 'uncached');
  assert.equal(h.calls(), 2);
  assert.equal(h.warnings.length, 1);
  assert.match(h.warnings[0]!, /cache unavailable .*symlink.*fetching without it/);
  assert.equal(statSync(shared).mode & 0o7777, 0o1777);
  assert.deepEqual(readdirSync(shared), []);
});

test('a group- or world-writable cache dir is refused with one warning, and the token still comes', async () => {
  const h = harness();
  mkdirSync(h.store.dir!);
  chmodSync(h.store.dir!, 0o777);
  const result = await h.engine.getToken(h.request());
  assert.equal(result.source, 'uncached');
  assert.match(h.warnings.join('\n'), /writable by others/);
  assert.equal(statSync(h.store.dir!).mode & 0o777, 0o777);
  assert.deepEqual(readdirSync(h.store.dir!), []);
});

test('a symlink planted at the entry path is replaced, never written through', async () => {
  const h = harness();
  h.store.ensureDir();
  const victim = join(tempDir('ck-victim-'), 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, h.store.entryPath(h.key()));
  const result = await h.engine.getToken(h.request());
  assert.equal(result.source, 'fresh');
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.ok(lstatSync(h.store.entryPath(h.key())).isFile());
});

test('an entry owned by another user is not served, and is replaced by a file of our own (not chowned back)', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
  const h = harness({ lifetimeMs: 60 * MIN });
  const first = await h.engine.getToken(h.request());
  h.clock.now += 1_000;
  chownSync(h.store.entryPath(h.key()), 12345, 12345);
  const second = await h.engine.getToken(h.request());
  assert.equal(second.source, 'fresh');
  assert.notEqual(second.token, first.token);
  assert.equal(statSync(h.store.entryPath(h.key())).uid, process.getuid!());
});

test('a cache that cannot be used (no HOME, a file in the path, an over-long path) means one warning and the token, never a failure', async () => {
  const blocker = join(tempDir('ck-blocked-'), 'file');
  writeFileSync(blocker, '');
  for (const cacheDir of [null, join(blocker, 'cache'), join(tempDir('ck-long-'), 'x'.repeat(300))]) {
    const h = harness({ cacheDir });
    const result = await h.engine.getToken(h.request());
    assert.equal(result.source, 'uncached', String(cacheDir));
    assert.equal(h.warnings.length, 1, String(cacheDir));
    assert.match(h.warnings[0]!, /cache unavailable/);
  }
});

test('a corrupt, truncated, foreign-version or foreign-key cache file is ignored and replaced', async () => {
  const h = harness();
  const key = h.key();
  const good = (h: Harness) => readFileSync(h.store.entryPath(key), 'utf8');
  await h.engine.getToken(h.request());
  const original = good(h);
  const variants = [
    'not json at all',
    original.slice(0, original.length / 2),
    original.replace('"v":2', '"v":99'),
    original.replace(`"key":"${key}"`, `"key":"${'b'.repeat(40)}"`),
    original.replace(/"token":"[^"]+"/, '"token":"tampered-token"'),
    '',
  ];
  for (const content of variants) {
    writeFileSync(h.store.entryPath(key), content);
    const before = h.calls();
    const result = await h.engine.getToken(h.request());
    assert.equal(result.source, 'fresh', `variant ${JSON.stringify(content.slice(0, 20))}`);
    assert.equal(h.calls(), before + 1);
    assert.ok(h.store.read(key), 'replaced by a readable entry');
  }
});

test('stale-if-error: provider unreachable but cached token still valid: serve it with one warning', async () => {
  let down = false;
  const h = harness({
    impl: async (n, ctx) => {
      if (down) throw new UnreachableError('vault at https://vault.example is unreachable (ECONNREFUSED)');
      return { token: `token-${n}-abcdef`, expiresAt: ctx.now() + 20 * MIN };
    },
  });
  const first = await h.engine.getToken(h.request());
  down = true;
  h.clock.now += 10 * MIN; // 10 min left: not enough for TTL + grace, but still valid
  const stale = await h.engine.getToken(h.request());
  assert.equal(stale.source, 'stale');
  assert.equal(stale.token, first.token);
  assert.equal(h.warnings.length, 1);
  assert.match(h.warnings[0]!, /serving the cached token/);
  assert.ok(!h.warnings[0]!.includes(first.token));
  h.clock.now += 10 * MIN; // now expired: nothing to fall back on
  await assert.rejects(h.engine.getToken(h.request()), (e: unknown) => isClaudeKeyError(e) && e.code === 'UNREACHABLE');
});

test('deadline: a provider that ignores the abort signal still ends the call with a deadline error', async () => {
  const h = harness({ impl: () => new Promise(() => {}) });
  const started = Date.now();
  await assert.rejects(h.engine.getToken(h.request({ timeoutMs: 300 })), (e: unknown) => isClaudeKeyError(e) && e.code === 'DEADLINE' && e.exitCode === 5);
  assert.ok(Date.now() - started < 5000);
});

test('deadline: the provider sees its signal aborted, so it can cancel its network call', async () => {
  let sawAbort = false;
  const h = harness({
    impl: (_n, ctx) =>
      new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          sawAbort = true;
          reject(ctx.signal.reason);
        });
      }),
  });
  await assert.rejects(h.engine.getToken(h.request({ timeoutMs: 200 })), (e: unknown) => isClaudeKeyError(e) && e.code === 'DEADLINE');
  assert.ok(sawAbort);
});

test('changing an environment variable the provider declares is a cache miss', async () => {
  const dir = tempDir('ck-env-');
  const eu = harness({ dir, env: { COUNTER_REGION: 'eu' } });
  await eu.engine.getToken(eu.request());
  const us = harness({ dir, env: { COUNTER_REGION: 'us' } });
  assert.equal((await us.engine.getToken(us.request())).source, 'fresh');
});

test('cache off never reads or writes the store', async () => {
  const h = harness();
  await h.engine.getToken(h.request({ cache: 'off' }));
  await h.engine.getToken(h.request({ cache: 'off' }));
  assert.equal(h.calls(), 2);
  assert.equal(h.store.list().length, 0);
});

test('values cached through ctx.cached are reused until they near expiry', async () => {
  let logins = 0;
  const h = harness({
    impl: async (n, ctx) => {
      const login = await ctx.cached('login', { role: 'x' }, async () => {
        logins++;
        return { value: `login-${logins}-secret`, expiresAt: ctx.now() + 10 * MIN };
      });
      return { token: `${login}-token-${n}` };
    },
  });
  await h.engine.getToken(h.request({ cache: 'off' }));
  h.clock.now += 9 * MIN; // 1 min left: above the 30 s default minimum
  await h.engine.getToken(h.request({ cache: 'off' }));
  assert.equal(logins, 1);
  h.clock.now += 40_000; // 20 s left
  await h.engine.getToken(h.request({ cache: 'off' }));
  assert.equal(logins, 2);
});

test('otelHeadersHelper and apiKeyHelper on one profile in one Claude Code process do not look like a refusal to each other', async () => {
  const h = harness({ lifetimeMs: 60 * MIN });
  h.caller.id = '4242:1000';
  const api = await h.engine.getToken(h.request());
  const otel = await h.engine.getToken({ ...h.request(), purpose: 'otelHeadersHelper' });
  // The apiKeyHelper token was not marked refused: another Claude Code process still gets it.
  h.caller.id = '5151:2000';
  const other = await h.engine.getToken(h.request());
  assert.equal(other.source, 'cache');
  assert.equal(other.token, api.token);
  assert.notEqual(otel.token, api.token, 'each purpose has its own token');
  assert.equal(h.calls(), 2);
});

test('the gateway a token is for is part of its identity: ANTHROPIC_BASE_URL B never gets the token fetched for A', async () => {
  const dir = tempDir('ck-gw-');
  let minted = 0;
  const impl = async (_n: number, ctx: ProviderContext) => ({ token: `gw-token-${++minted}`, expiresAt: ctx.now() + 60 * MIN });
  const a = harness({ dir, impl, env: { COUNTER_REGION: 'eu', ANTHROPIC_BASE_URL: 'https://gateway-a.example' } });
  const b = harness({ dir, impl, env: { COUNTER_REGION: 'eu', ANTHROPIC_BASE_URL: 'https://gateway-b.example' } });
  const tokenA = await a.engine.getToken(a.request());
  const tokenB = await b.engine.getToken(b.request());
  assert.equal(tokenB.source, 'fresh');
  assert.notEqual(tokenB.token, tokenA.token);
  assert.equal((await a.engine.getToken(a.request())).token, tokenA.token);
});

test('a provider that declares no identity is never cached', async () => {
  const h = harness();
  const { identity: _drop, ...rest } = h.request().provider;
  const anonymous = rest as unknown as Provider;
  assert.equal((await h.engine.getToken(h.request({}, anonymous))).source, 'uncached');
  assert.equal((await h.engine.getToken(h.request({}, anonymous))).source, 'uncached');
  assert.equal(h.store.list().length, 0);
});
