// Finds the caller's credential in the configured headers and verifies it as a JWT or an API key.
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../config.js';
import { authenticationError } from '../errors.js';
import { ApiKeyVerifier } from './api-keys.js';
import { JwtVerifier, looksLikeJwt } from './jwt.js';
import type { Principal } from './principal.js';

export type CredentialHeader = GatewayConfig['auth']['headers'][number];

/** Request headers as Node gives them (`req.headers`) or with every repeat kept (`req.headersDistinct`). */
export type HeaderValues = IncomingHttpHeaders | NodeJS.Dict<string[]>;

/**
 * The credential from the configured headers. Claude Code sends the same token in both
 * Authorization and X-Api-Key; two different values are refused rather than guessed between.
 * Pass `req.headersDistinct`: `req.headers` silently keeps only the first of two Authorization
 * headers, so a repeated credential header would go unseen.
 */
export function extractCredential(headers: HeaderValues, names: readonly CredentialHeader[]): string {
  let found: string | undefined;
  for (const name of names) {
    let raw = headers[name];
    if (raw === undefined) continue;
    if (Array.isArray(raw)) {
      if (raw.length !== 1) throw authenticationError(`Repeated ${name} header: send one credential.`);
      raw = raw[0]!;
    }
    let value = raw.trim();
    if (name !== 'x-api-key') {
      const match = /^Bearer[ ]+([^\s]+)$/i.exec(value);
      if (!match) throw authenticationError(`Malformed ${name} header: expected "Bearer <token>".`);
      value = match[1]!;
    }
    if (!value) continue;
    if (found !== undefined && found !== value) throw authenticationError('Conflicting credentials in the request headers.');
    found = value;
  }
  if (found === undefined) {
    throw authenticationError(`Missing credential: send ${names.map(headerLabel).join(' or ')}.`);
  }
  return found;
}

function headerLabel(name: CredentialHeader): string {
  return name === 'x-api-key' ? 'X-Api-Key' : name === 'authorization' ? 'Authorization: Bearer' : 'Proxy-Authorization: Bearer';
}

export class Authenticator {
  readonly jwt: JwtVerifier;
  readonly apiKeys: ApiKeyVerifier;
  private readonly revoked: Set<string>;

  constructor(private readonly config: GatewayConfig, now: () => number) {
    const knownTeams = new Set(Object.keys(config.policies.teams));
    this.jwt = new JwtVerifier(config.auth.issuers, { skewSeconds: config.auth.clockSkewSeconds, now, knownTeams });
    this.apiKeys = new ApiKeyVerifier(config.auth.apiKeys);
    this.revoked = new Set(config.auth.revoked.flatMap((id) => [id, `jti:${id}`, `key:${id}`]));
  }

  /** `names` overrides auth.headers (Vertex requests may read Proxy-Authorization only). */
  async authenticate(headers: HeaderValues, names: readonly CredentialHeader[] = this.config.auth.headers): Promise<Principal> {
    const token = extractCredential(headers, names);
    const principal = looksLikeJwt(token) ? await this.jwt.verify(token) : this.apiKeys.verify(token);
    if (this.revoked.has(principal.credentialId)) throw authenticationError('Credential has been revoked.');
    return principal;
  }
}
