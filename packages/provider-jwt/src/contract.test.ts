// The provider contract every claude-key provider honours, checked with core's checkProviderContract.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkProviderContract } from '@claude-key/core/testing';
import provider, { jwtCommands } from './index.js';
import { printedJwks, runCommand, tempDir, verifyAt } from './test-support/fixtures.js';

it('honours the provider contract', async () => {
  const keysDir = await tempDir();
  const jwks = printedJwks(await runCommand(jwtCommands().keygen, { keysDir }));
  const now = Date.UTC(2026, 5, 1);
  const credential = await checkProviderContract(provider, {
    valid: { options: { keysDir, aud: 'claude-gateway' }, context: { now, ttlMs: 300_000 } },
    invalid: { keysDir, alg: 'HS256' },
    failing: { options: { keysDir: `${keysDir}/missing` } },
  });
  await verifyAt(credential.token, jwks, now, { audience: 'claude-gateway' });
  assert.equal(provider.name, 'jwt');
  assert.deepEqual(Object.keys(provider.commands ?? {}).sort(), ['activate', 'enroll', 'jwks', 'keygen', 'keys', 'retire']);
});
