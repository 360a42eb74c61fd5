// Turns private key text (PEM PKCS8 or a JWK) into a checked signing key, and makes new ones.
import { createPrivateKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { ConfigError } from '@claude-key/core';

/** The only algorithms we sign with: asymmetric, so a gateway holds no secret. Never HS* or none. */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateJwk: JWK;
  publicJwk: JWK;
}

const MIN_RSA_BITS = 2048;
const SUPPORTED_HINT = 'use an ES256 (P-256), RS256 (RSA 2048+) or EdDSA (Ed25519) key';

/** Which algorithm a key's type allows, or a ConfigError naming where the key came from. */
export function algorithmOf(jwk: JWK, origin: string): SigningAlgorithm {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') {
    const bits = Buffer.from(jwk.n ?? '', 'base64url').length * 8;
    if (bits < MIN_RSA_BITS) throw new ConfigError(`the RSA key from ${origin} has ${bits} bits`, { hint: `use at least ${MIN_RSA_BITS}` });
    return 'RS256';
  }
  throw new ConfigError(`the key from ${origin} is not a supported signing key`, { hint: SUPPORTED_HINT });
}

/** The public half of a private JWK, with the members a JWKS consumer needs to pick it. */
export function publicJwkOf(privateJwk: JWK, kid: string, alg: SigningAlgorithm): JWK {
  const { kty, crv, x, y, n, e } = privateJwk;
  const material = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
  return { ...material, kid, alg, use: 'sig' };
}

/** The RFC 7638 thumbprint: a kid every machine derives the same way from the same key. */
export function thumbprintKid(publicJwk: JWK): Promise<string> {
  return calculateJwkThumbprint(publicJwk, 'sha256');
}

function parseKeyText(text: string, origin: string): JWK {
  const trimmed = text.trim();
  // Parse errors are not echoed: JSON and PEM parsers quote the input, which is the secret.
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as JWK;
    } catch {
      throw new ConfigError(`${origin} is not valid JWK JSON`, { hint: SUPPORTED_HINT });
    }
  }
  try {
    return createPrivateKey(trimmed).export({ format: 'jwk' }) as JWK;
  } catch {
    throw new ConfigError(`${origin} holds no private key in PEM (PKCS8) or JWK form`, { hint: SUPPORTED_HINT });
  }
}

/**
 * Reads a private key. `wanted.alg` must match what the key type allows; `wanted.kid` overrides
 * the JWK's own kid; without either the kid is the key's thumbprint.
 */
export async function parsePrivateKey(
  text: string,
  origin: string,
  wanted: { kid?: string; alg?: SigningAlgorithm } = {},
): Promise<SigningKey> {
  const jwk = parseKeyText(text, origin);
  const alg = algorithmOf(jwk, origin);
  if (typeof jwk.d !== 'string') throw new ConfigError(`${origin} holds a public key, not a private one`, { hint: SUPPORTED_HINT });
  for (const claimed of [wanted.alg, jwk.alg]) {
    if (claimed !== undefined && claimed !== alg) {
      throw new ConfigError(`the key from ${origin} is a ${alg} key, not ${claimed}`, { hint: `pass --alg ${alg} or another key` });
    }
  }
  const kid = wanted.kid ?? jwk.kid ?? (await thumbprintKid(publicJwkOf(jwk, '', alg)));
  const privateJwk: JWK = { ...jwk, kid, alg };
  return { kid, alg, privateJwk, publicJwk: publicJwkOf(privateJwk, kid, alg) };
}

/** A fresh key pair for `keygen`. */
export async function generateSigningKey(alg: SigningAlgorithm, kid?: string): Promise<SigningKey> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: MIN_RSA_BITS } : {}) });
  const jwk = await exportJWK(pair.privateKey);
  return parsePrivateKey(JSON.stringify(jwk), `a new ${alg} key`, kid === undefined ? { alg } : { alg, kid });
}
