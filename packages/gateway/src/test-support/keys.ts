// Test issuer: an ES256 key pair, its JWKS file, and a signer for tokens with any claims.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const TEST_ISSUER = 'https://claude-key.test';
export const TEST_AUDIENCE = 'claude-key-gateway';

export interface TestIssuer {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwksFile: string;
  dir: string;
  /** Signs a token; claims default to a valid one for alice of team eng, issued at `nowSec`. */
  sign(claims?: JWTPayload, opts?: { nowSec?: number; ttlSec?: number; kid?: string; key?: CryptoKey }): Promise<string>;
}

export async function createTestIssuer(kid = 'test-key-1'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'ckg-issuer-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  let n = 0;
  return {
    kid,
    privateKey,
    publicKey,
    jwksFile,
    dir,
    async sign(claims = {}, opts = {}) {
      const nowSec = opts.nowSec ?? Math.floor(Date.now() / 1000);
      const standard = { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: nowSec, exp: nowSec + (opts.ttlSec ?? 300) };
      return new SignJWT({ ...standard, sub: 'alice', team: 'eng', jti: `jti-${++n}-${nowSec}`, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? kid, typ: 'JWT' })
        .sign(opts.key ?? privateKey);
    },
  };
}

/** The private key as a JWK, for a test apiKeyHelper script that signs its own tokens. */
export const privateJwk = (issuer: TestIssuer) => exportJWK(issuer.privateKey);

export function issuerConfig(issuer: TestIssuer) {
  return { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksFile: issuer.jwksFile, algorithms: ['ES256' as const] };
}

/** The issuer name of per-user keys enrolled in the gateway, as `claude-key jwt` signs them. */
export const ENROLLED_ISSUER = 'claude-key';

/** A developer's own key, as `claude-key jwt keygen` makes it: the kid is its thumbprint. */
export async function userKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const sign = (claims: JWTPayload = {}, aud = TEST_AUDIENCE) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: ENROLLED_ISSUER, aud, iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
  };
  return { privateKey: privateKey as CryptoKey, jwk: jwk as JWK, kid, sign };
}
