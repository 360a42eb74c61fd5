// Minting: every token verifies with jose against the printed JWKS; claims and lifetimes follow the options and the clock.
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { isClaudeKeyError } from '@claude-key/core';
import { createTestContext, type TestContextOptions } from '@claude-key/core/testing';
import provider, { jwtCommands } from './index.js';
import { printedJwks, runCommand, tempDir, verifyAt } from './test-support/fixtures.js';

const commands = jwtCommands();
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

/** A new key set holding one ES256 key, and the JWKS keygen printed for it. */
async function freshKeySet(raw: Record<string, unknown> = {}) {
  const keysDir = await tempDir();
  return { keysDir, jwks: printedJwks(await runCommand(commands.keygen, { keysDir, ...raw })) };
}

async function mint(raw: Record<string, unknown>, context: TestContextOptions = {}) {
  const ctx = createTestContext({ now: T0, ...context });
  const credential = await provider.fetch(provider.options.parse(raw), ctx);
  return { credential, ctx, claims: decodeJwt(credential.token), header: decodeProtectedHeader(credential.token) };
}

describe('jwt mint with the local key set', () => {
  let keysDir: string;
  let jwks: { keys: JWK[] };
  before(async () => ({ keysDir, jwks } = await freshKeySet()));

  it('mints an ES256 token that verifies against the printed JWKS with issuer and audience checks', async () => {
    const { credential, header } = await mint({ keysDir, aud: 'claude-gateway', team: 'platform', sub: 'ada' });
    const { payload } = await verifyAt(credential.token, jwks, T0, { audience: 'claude-gateway' });
    assert.equal(payload.sub, 'ada');
    assert.equal(payload.team, 'platform');
    assert.equal(payload.iss, 'claude-key');
    assert.deepEqual({ alg: header.alg, typ: header.typ, kid: header.kid }, { alg: 'ES256', typ: 'JWT', kid: jwks.keys[0]!.kid });
    await assert.rejects(verifyAt(credential.token, jwks, T0, { audience: 'other-gateway' }), /aud/);
  });

  it('defaults sub to the OS user and iss to claude-key; --iss changes the issuer', async () => {
    const { claims } = await mint({ keysDir });
    assert.equal(claims.sub, userInfo().username);
    const custom = await mint({ keysDir, iss: 'https://keys.example.com' });
    await verifyAt(custom.credential.token, jwks, T0, { issuer: 'https://keys.example.com' });
    await assert.rejects(verifyAt(custom.credential.token, jwks, T0), /iss/);
  });

  it('sets iat from the injected clock, nbf backdated by the clock skew, and a fresh jti per token', async () => {
    const a = await mint({ keysDir });
    const b = await mint({ keysDir }, { refused: true });
    assert.equal(a.claims.iat, T0 / 1000);
    assert.equal(a.claims.nbf, T0 / 1000 - 30);
    assert.match(String(a.claims.jti), /^[0-9a-f-]{36}$/);
    assert.notEqual(a.claims.jti, b.claims.jti);
    assert.notEqual(a.credential.token, b.credential.token);
  });

  it('--claim values keep their JSON type and plain text stays a string', async () => {
    const { claims } = await mint({ keysDir, claim: ['tier=3', 'admin=false', 'roles=["dev","ops"]', 'note=hello world', 'empty='] });
    assert.deepEqual(
      { tier: claims.tier, admin: claims.admin, roles: claims.roles, note: claims.note, empty: claims.empty },
      { tier: 3, admin: false, roles: ['dev', 'ops'], note: 'hello world', empty: '' },
    );
  });

  for (const [claim, pattern] of [
    ['sub=mallory', /override a registered claim.*--sub/],
    ['exp=9999999999', /override a registered claim/],
    ['jti=fixed', /override a registered claim/],
    ['novalue', /not k=v/],
    ['=x', /not k=v/],
  ] as const) {
    it(`refuses --claim ${claim} with a usage error`, async () => {
      await assert.rejects(mint({ keysDir, claim: [claim] }), (err) => isClaudeKeyError(err) && err.exitCode === 2 && pattern.test(err.line));
    });
  }

  it('refuses --claim team when --team is also given', async () => {
    await assert.rejects(mint({ keysDir, team: 'a', claim: ['team=b'] }), /conflicts with --team/);
    const { claims } = await mint({ keysDir, claim: ['team=b'] });
    assert.equal(claims.team, 'b');
  });
});

describe('jwt token lifetime follows the engine TTL and grace', () => {
  let keysDir: string;
  let jwks: { keys: JWK[] };
  before(async () => ({ keysDir, jwks } = await freshKeySet()));

  it('lives TTL + grace + skew when that exceeds --min-lifetime, and expiresAt equals exp in ms', async () => {
    const { credential, claims } = await mint({ keysDir }, { ttlMs: 15 * 60_000, graceMs: 60_000 });
    assert.equal(claims.exp, T0 / 1000 + 15 * 60 + 60 + 30);
    assert.equal(credential.expiresAt, Number(claims.exp) * 1000);
  });

  it('lives --min-lifetime when TTL + grace is shorter', async () => {
    const { claims } = await mint({ keysDir, minLifetime: '10m' }, { ttlMs: 60_000, graceMs: 60_000 });
    assert.equal(claims.exp, T0 / 1000 + 600);
  });

  it('lives --max-lifetime when Claude Code has no TTL (it keeps the value until a 401)', async () => {
    const { claims, ctx } = await mint({ keysDir, maxLifetime: '2h' }, { ttlMs: 0 });
    assert.equal(claims.exp, T0 / 1000 + 7200);
    assert.equal(ctx.logs.filter((l) => l.level === 'warn').length, 0);
  });

  it('caps at --max-lifetime below TTL + grace and warns once', async () => {
    const { claims, ctx } = await mint({ keysDir, maxLifetime: '30m', minLifetime: '1m' }, { ttlMs: 45 * 60_000, graceMs: 60_000 });
    assert.equal(claims.exp, T0 / 1000 + 1800);
    const warnings = ctx.logs.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /--max-lifetime 30m is shorter than the TTL plus grace/);
  });

  it('is accepted just before exp and rejected after it, by the injected clock', async () => {
    const { credential, claims } = await mint({ keysDir }, { ttlMs: 5 * 60_000 });
    const expMs = Number(claims.exp) * 1000;
    await verifyAt(credential.token, jwks, expMs - 1000);
    await assert.rejects(verifyAt(credential.token, jwks, expMs + 1000), /"exp" claim timestamp check failed/);
  });

  it('refuses --min-lifetime above --max-lifetime', async () => {
    await assert.rejects(mint({ keysDir, minLifetime: '2h', maxLifetime: '1h' }), /--min-lifetime 2h exceeds --max-lifetime 1h/);
  });
});

describe('jwt algorithms', () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    it(`keygen --alg ${alg} mints tokens that verify with ${alg}`, async () => {
      const { keysDir, jwks } = await freshKeySet({ alg });
      assert.equal(jwks.keys[0]!.alg, alg);
      const { credential } = await mint({ keysDir, aud: 'gw' });
      const { protectedHeader } = await verifyAt(credential.token, jwks, T0, { audience: 'gw' });
      assert.equal(protectedHeader.alg, alg);
    });
  }

  it('rejects HS256 and none as keygen algorithms', () => {
    for (const alg of ['HS256', 'none']) assert.equal(commands.keygen.options.safeParse({ alg }).success, false);
  });
});
