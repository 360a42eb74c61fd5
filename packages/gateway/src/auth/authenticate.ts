// Finds the caller's credential in the configured headers and verifies it as a JWT or an API key.
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../config.js';
import { authenticationError } from '../errors.js';
import { ApiKeyVerifier } from './api-keys.js';
import { JwtVerifier, looksLikeJwt } from './jwt.js';
import type { Principal } from './principal.js';
import { subjectKey, type TrustRegistry } from './trust.js';

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
    const value = tokenIn(name, raw.trim());
    if (value === undefined) throw authenticationError(`Malformed ${name} header: expected "Bearer <token>".`);
    if (!value) continue;
    if (found !== undefined && found !== value) throw authenticationError('Conflicting credentials in the request headers.');
    found = value;
  }
  if (found === undefined) {
    throw authenticationError(`Missing credential: send ${names.map(headerLabel).join(' or ')}.`);
  }
  return found;
}

/** The token in one credential header's (trimmed) value: all of X-Api-Key, what follows "Bearer " otherwise; undefined when malformed. */
export function tokenIn(name: CredentialHeader, value: string): string | undefined {
  return name === 'x-api-key' ? value : /^Bearer[ ]+([^\s]+)$/i.exec(value)?.[1];
}

function headerLabel(name: CredentialHeader): string {
  return name === 'x-api-key' ? 'X-Api-Key' : name === 'authorization' ? 'Authorization: Bearer' : 'Proxy-Authorization: Bearer';
}

export class Authenticator {
  readonly jwt: JwtVerifier;
  readonly apiKeys: ApiKeyVerifier;
  private readonly revoked: Set<string>;

  constructor(private readonly config: GatewayConfig, now: () => number, private readonly trust?: TrustRegistry) {
    const knownTeams = new Set(Object.keys(config.policies.teams));
    this.jwt = new JwtVerifier(config.auth.issuers, {
      skewSeconds: config.auth.clockSkewSeconds,
      now,
      knownTeams,
      enrolledKey: (kid) => trust?.activeKey(kid),
    });
    this.apiKeys = new ApiKeyVerifier(config.auth.apiKeys);
    this.revoked = new Set(config.auth.revoked.flatMap((id) => [id, `jti:${id}`, `key:${id}`]));
  }

  /** `names` overrides auth.headers (Vertex requests may read Proxy-Authorization only). */
  async authenticate(headers: HeaderValues, names: readonly CredentialHeader[] = this.config.auth.headers): Promise<Principal> {
    const token = extractCredential(headers, names);
    const principal = looksLikeJwt(token) ? await this.jwt.verify(token) : this.apiKeys.verify(token);
    if (this.isRevoked(principal)) throw authenticationError('Credential has been revoked.');
    return principal;
  }

  /**
   * Revocations from the config and the registry; verified tokens are remembered, so this runs on every
   * request. The console asks it too, for the identity a session was opened with.
   */
  isRevoked(p: Principal): boolean {
    if (this.revoked.has(p.credentialId)) return true;
    const trust = this.trust;
    if (!trust) return false;
    if (p.keyId !== undefined && !trust.activeKey(p.keyId)) return true; // revoked or expired since the token was cached
    if (trust.isRevoked('subject', subjectKey(p.source, p.subject))) return true;
    if (p.kind === 'api-key') return trust.isRevoked('api-key', p.subject);
    return p.credentialId.startsWith('jti:') && trust.isRevoked('jti', p.credentialId.slice(4));
  }

  /** Admin rights belong to identities (source and subject), IdP groups or API key ids named in auth.admins. */
  isAdmin(p: Principal): boolean {
    return this.config.auth.admins.some((a) => {
      if ('apiKey' in a) return p.source === 'api-key' && p.subject === a.apiKey;
      if (a.source !== p.source) return false;
      return 'subject' in a ? a.subject === p.subject : (p.groups?.includes(a.group) ?? false);
    });
  }
}
