// The real `claude-key` binary (from source) running the jwt provider: keygen, a minted token on stdout, the cache.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { runClaudeKey } from '../../cli/src/testing.js';
import { tempDir, verifyAt } from './test-support/fixtures.js';

describe('claude-key jwt through the CLI', () => {
  let env: Record<string, string>;
  let configDir: string;
  let printedByKeygen: { keys: JWK[] };

  const run = (...args: string[]) => runClaudeKey(args, { env });

  before(async () => {
    configDir = await tempDir();
    env = { CLAUDE_KEY_CONFIG_DIR: configDir, CLAUDE_KEY_CACHE_DIR: await tempDir(), CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '300000' };
  });

  it('keygen prints a public JWKS and the apiKeyHelper line prints one token that verifies against it', async () => {
    const keygen = await run('jwt', 'keygen');
    assert.equal(keygen.code, 0, keygen.stderr);
    const jwks = JSON.parse(keygen.stdout) as { keys: JWK[] };
    printedByKeygen = jwks;
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.d, undefined);
    assert.equal((await stat(join(configDir, 'keys', 'jwt-keys.json'))).mode & 0o777, 0o600);

    const minted = await run('jwt', '--aud', 'claude-gateway', '--team', 'platform');
    assert.equal(minted.code, 0, minted.stderr);
    assert.match(minted.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'stdout must be exactly one token line');
    const token = minted.stdout.trim();
    const { payload } = await verifyAt(token, jwks, Date.now(), { audience: 'claude-gateway' });
    assert.equal(payload.team, 'platform');
    // TTL 5 min + the engine's grace + our 30 s clock skew: valid while Claude Code may still send it.
    assert.ok(payload.exp! - payload.iat! >= 300 + 30, `lifetime ${payload.exp! - payload.iat!} s`);

    const again = await run('jwt', '--aud', 'claude-gateway', '--team', 'platform');
    assert.equal(again.stdout.trim(), token, 'a second run within the TTL must be served from the cache');
  });

  it('jwks prints the same keys keygen printed', async () => {
    const jwks = await run('jwt', 'jwks');
    assert.equal(jwks.code, 0, jwks.stderr);
    assert.deepEqual(JSON.parse(jwks.stdout), printedByKeygen);
  });

  it('a bad --claim exits 2 with one line on stderr and nothing on stdout', async () => {
    const bad = await run('jwt', '--aud', 'x', '--claim', 'sub=mallory');
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr.trim(), /^[^\n]*--claim sub would override a registered claim[^\n]*$/);
  });

  // The jwt command's own --alg/--kid/--keys-dir must not swallow the same-named flags of its subcommands.
  it('keygen --alg EdDSA --kid K reaches the keygen command', async () => {
    const keygen = await run('jwt', 'keygen', '--alg', 'EdDSA', '--kid', 'ed-1', '--no-activate');
    assert.equal(keygen.code, 0, keygen.stderr);
    const kids = (JSON.parse(keygen.stdout) as { keys: JWK[] }).keys.map((k) => [k.kid, k.alg]);
    assert.deepEqual(kids.at(-1), ['ed-1', 'EdDSA']);
    const token = (await run('jwt', '--kid', 'ed-1', '--aud', 'x')).stdout.trim();
    assert.equal(decodeProtectedHeader(token).alg, 'EdDSA');
    assert.ok(decodeJwt(token).jti);
  });
});
