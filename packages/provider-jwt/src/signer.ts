// A signer turns a JWT header and payload into a compact JWS; local keys sign with jose, Vault signs remotely.
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import type { SigningAlgorithm, SigningKey } from './signing-key.js';

export interface JwtHeader {
  alg: SigningAlgorithm;
  kid: string;
  typ: 'JWT';
}

export interface Signer {
  kid: string;
  alg: SigningAlgorithm;
  /** Where the key came from, for `meta` and debug lines (never key material). */
  source: string;
  sign(header: JwtHeader, payload: Record<string, unknown>): Promise<string>;
}

/** A signer holding the private key in this process. */
export async function localSigner(key: SigningKey, source: string): Promise<Signer> {
  const privateKey = await importJWK(key.privateJwk, key.alg);
  return {
    kid: key.kid,
    alg: key.alg,
    source,
    sign: (header, payload) => new SignJWT(payload as JWTPayload).setProtectedHeader({ ...header }).sign(privateKey),
  };
}
