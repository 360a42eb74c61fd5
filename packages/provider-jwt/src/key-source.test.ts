// Key sources for minting: a PEM file, a JWK in an env var, the OS keychain (via ctx.secret), and their failures.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { isClaudeKeyError } from '@claude-key/core';
import { createTestContext } from '@claude-key/core/testing';
import provider, { jwtCommands } from './index.js';
import { printedJwks, recordingIO, runCommand, tempDir, verifyAt } from './test-support/fixtures.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

function pkcs8Pem(type: 'ec' | 'rsa' | 'ed25519', bits = 2048): string {
  const options = type === 'ec' ? { namedCurve: 'P-256' } : type === 'rsa' ? { modulusLength: bits } : {};
  return generateKeyPairSync(type as 'ec', options as { namedCurve: string }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** The JWKS `claude-key jwt jwks --key REF` prints, i.e. what a gateway would be given. */
async function jwksFor(raw: Record<string, unknown>, env: Record<string, string> = {}, secrets: Record<string, string> = {}) {
  return printedJwks(await runCommand(jwtCommands().jwks, raw, recordingIO(createTestContext({ env, secrets }))));
}

async function mint(raw: Record<string, unknown>, env: Record<string, string> = {}, secrets: Record<string, string> = {}) {
  const ctx = createTestContext({ now: T0, env, secrets });
  return provider.fetch(provider.options.parse(raw), ctx);
}

async function assertFailsWith(promise: Promise<unknown>, exitCode: number, pattern: RegExp, secret?: string) {
  await assert.rejects(promise, (err) => {
    assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
    assert.equal(err.exitCode, exitCode);
    assert.match(err.line, pattern);
    if (secret) assert.ok(!err.line.includes(secret.slice(40, 80)), 'the error echoes key material');
    return true;
  });
}

describe('jwt --key sources', () => {
  for (const type of ['ec', 'rsa', 'ed25519'] as const) {
    it(`--key file: with a PKCS8 PEM (${type}) mints a token that verifies against jwks --key`, async () => {
      const dir = await tempDir();
      const path = join(dir, 'signing.pem');
      await writeFile(path, pkcs8Pem(type), { mode: 0o600 });
      const jwks = await jwksFor({ key: `file:${path}`, kid: 'file-key' });
      const credential = await mint({ key: `file:${path}`, kid: 'file-key', aud: 'gw' });
      const { protectedHeader } = await verifyAt(credential.token, jwks, T0, { audience: 'gw' });
      assert.equal(protectedHeader.kid, 'file-key');
      assert.equal(credential.meta?.source, 'file');
    });
  }

  it('--key env: with a private JWK uses the JWK kid and verifies', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'env-kid' });
    const env = { JWT_SIGNING_KEY: jwk };
    const jwks = await jwksFor({ key: 'env:JWT_SIGNING_KEY' }, env);
    const credential = await mint({ key: 'env:JWT_SIGNING_KEY' }, env);
    assert.equal(decodeProtectedHeader(credential.token).kid, 'env-kid');
    await verifyAt(credential.token, jwks, T0);
  });

  it('--key keychain: resolves through ctx.secret and verifies', async () => {
    const secrets = { 'keychain:claude-key/jwt-signing': pkcs8Pem('ed25519') };
    const jwks = await jwksFor({ key: 'keychain:claude-key/jwt-signing' }, {}, secrets);
    const credential = await mint({ key: 'keychain:claude-key/jwt-signing' }, {}, secrets);
    assert.equal(decodeProtectedHeader(credential.token).alg, 'EdDSA');
    // Without --kid the kid is the RFC 7638 thumbprint, so jwks and mint agree without configuration.
    assert.equal(decodeProtectedHeader(credential.token).kid, jwks.keys[0]!.kid);
    await verifyAt(credential.token, jwks, T0);
  });

  it('refuses an RSA key below 2048 bits', async () => {
    await assertFailsWith(mint({ key: 'env:K' }, { K: pkcs8Pem('rsa', 1024) }), 2, /has 1024 bits; use at least 2048/);
  });

  it('refuses an --alg that does not match the key type', async () => {
    await assertFailsWith(mint({ key: 'env:K', alg: 'RS256' }, { K: pkcs8Pem('ec') }), 2, /is a ES256 key, not RS256/);
  });

  it('refuses a JWK that claims HS256 or is symmetric', async () => {
    await assertFailsWith(mint({ key: 'env:K' }, { K: JSON.stringify({ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0', alg: 'HS256' }) }), 2, /not a supported signing key/);
  });

  it('refuses a public key in place of a private one', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    await assertFailsWith(mint({ key: 'env:K' }, { K: JSON.stringify(await exportJWK(publicKey)) }), 2, /holds a public key, not a private one/);
  });

  it('reports unparsable key text without echoing it', async () => {
    const garbage = `{"kty":"EC", ${'x'.repeat(120)}`;
    await assertFailsWith(mint({ key: 'env:K' }, { K: garbage }), 2, /env:K is not valid JWK JSON/, garbage);
    const badPem = pkcs8Pem('ec').replace(/[A-Za-z]{10}/, 'zzzzzzzzzz');
    await assertFailsWith(mint({ key: 'env:K' }, { K: badPem }), 2, /env:K holds no private key/, badPem);
  });

  it('names the reference when it cannot be read', async () => {
    await assertFailsWith(mint({ key: 'env:MISSING' }), 6, /cannot read the JWT signing key from env:MISSING/);
  });
});
