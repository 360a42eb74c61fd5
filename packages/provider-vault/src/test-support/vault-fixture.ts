// Test fixture: a Vault test server sharing the test context's clock, and a helper to run the provider.
import assert from 'node:assert/strict';
import { createTestContext, type TestContext, type TestContextOptions } from '@claude-key/core/testing';
import { isClaudeKeyError, type ClaudeKeyError, type Credential } from '@claude-key/core';
import { VaultTestServer, type VaultTestServerOptions } from '@claude-key/vault-test-server';
import provider from '../index.js';

export interface VaultFixture {
  server: VaultTestServer;
  ctx: TestContext;
  env: Record<string, string | undefined>;
  /** Parses raw options through the provider's schema and fetches with the shared context. */
  run(options: Record<string, unknown>, ctx?: TestContext): Promise<Credential>;
  /** Runs and returns the ClaudeKeyError it must throw. */
  fail(options: Record<string, unknown>, ctx?: TestContext): Promise<ClaudeKeyError>;
  /** A fresh context (empty engine cache) starting at the shared context's time, same environment. */
  newContext(extra?: TestContextOptions): TestContext;
}

export async function startVault(opts: { context?: TestContextOptions; server?: VaultTestServerOptions } = {}): Promise<VaultFixture> {
  const env: Record<string, string | undefined> = { HOME: '/nonexistent-home', ...opts.context?.env };
  const ctx = createTestContext({ ...opts.context, env });
  // The server follows the clock of whichever context ran last, so expiry decisions agree.
  let active: TestContext = ctx;
  const server = await VaultTestServer.start({ ...opts.server, now: () => active.now() });
  env.VAULT_ADDR ??= server.address;
  const run = (options: Record<string, unknown>, use = ctx) => {
    active = use;
    return provider.fetch(provider.options.parse(options), use);
  };
  return {
    server,
    ctx,
    env,
    run,
    async fail(options, use = ctx) {
      try {
        await run(options, use);
      } catch (err) {
        assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
        return err;
      }
      assert.fail('expected the fetch to fail');
    },
    newContext(extra = {}) {
      return createTestContext({ ...opts.context, ...extra, env, now: ctx.now() });
    },
  };
}

/** Asserts an error's user-facing line leaks none of the given secrets. */
export function assertNoSecrets(err: ClaudeKeyError, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!err.line.includes(secret), `error line leaks a secret: ${err.line}`);
    assert.ok(!err.message.includes(secret), `error message leaks a secret`);
  }
}
