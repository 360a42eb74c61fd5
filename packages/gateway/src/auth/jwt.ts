// JWT verification for configured issuers: local JWKS file, JWKS URL, or OIDC discovery (jose).
//
// Security choices: the issuer is picked from the unverified `iss` only to choose its keys and
// settings; everything is then verified by jose with that issuer's explicit algorithm allow-list
// (asymmetric only: `none` and HMAC can never pass, so an HS256 token "signed" with a public key
// is refused), a required `exp`, `iss`, `aud`, and a small clock skew from the injected clock.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  jwtVerify,
  errors,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigError, isNetworkError } from '@claude-key/core';
import type { IssuerConfig } from '../config.js';
import { authenticationError, GatewayError, permissionError } from '../errors.js';
import { claimAt, identityFromClaims, UNASSIGNED_TEAM } from './claims.js';
import { globMatch } from '../policy.js';
import type { Principal } from './principal.js';

export interface JwtVerifierOptions {
  skewSeconds: number;
  now: () => number;
  knownTeams: ReadonlySet<string>;
  /** Verified tokens are remembered until they expire, so a repeated token skips the signature check. */
  cacheSize?: number;
  /** Active enrolled keys by kid, for `trust: enrolled` issuers. */
  enrolledKey?: (kid: string | undefined) => { entry: { user: string; teams: string[] }; key: CryptoKey | KeyObject | Uint8Array } | undefined;
}

interface IssuerState {
  config: IssuerConfig;
  keys?: JWTVerifyGetKey;
  loading?: Promise<JWTVerifyGetKey>;
}

/** Tokens look like three base64url segments; anything else is treated as an API key. */
export function looksLikeJwt(token: string): boolean {
  const first = token.indexOf('.');
  return first > 0 && token.indexOf('.', first + 1) > first + 1 && token.split('.').length === 3;
}

/**
 * Three base64url segments each of which re-encodes to itself: no padding, no other alphabet and no
 * altered unused trailing bits, so one token has one spelling (a cache key or revocation list
 * cannot be dodged by re-spelling it).
 */
export function isCanonicalCompact(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  return parts.every((part) => /^[A-Za-z0-9_-]*$/.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part);
}

export class JwtVerifier {
  private readonly issuers = new Map<string, IssuerState>();
  private readonly cache = new Map<string, { principal: Principal; exp: number }>();
  private readonly cacheSize: number;

  constructor(issuers: readonly IssuerConfig[], private readonly opts: JwtVerifierOptions) {
    for (const config of issuers) this.issuers.set(config.issuer, { config });
    this.cacheSize = opts.cacheSize ?? 10_000;
  }

  get size(): number {
    return this.issuers.size;
  }

  /** Loads local JWKS files now so a bad file fails at start-up, not on the first request. */
  preload(): void {
    for (const state of this.issuers.values()) if (state.config.jwksFile) state.keys = localKeys(state.config.jwksFile);
  }

  async verify(token: string): Promise<Principal> {
    const nowMs = this.opts.now();
    const cached = this.cache.get(token);
    if (cached && cached.exp * 1000 + this.opts.skewSeconds * 1000 > nowMs) return cached.principal;
    if (cached) this.cache.delete(token);

    if (!isCanonicalCompact(token)) throw authenticationError('Malformed token: every segment must be canonical base64url.');
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw authenticationError('Malformed token: not a JWT.');
    }
    const state = typeof unverified.iss === 'string' ? this.issuers.get(unverified.iss) : undefined;
    if (!state) throw authenticationError('Token issuer is not trusted by this gateway.');
    const { config } = state;
    const keys = config.trust === 'enrolled' ? this.enrolledKeys : await this.keysFor(state);

    let payload: JWTPayload;
    let kid: string | undefined;
    try {
      let header: { kid?: string | undefined };
      ({ payload, protectedHeader: header } = await jwtVerify(token, keys, {
        algorithms: config.algorithms,
        issuer: config.issuer,
        audience: config.audience,
        clockTolerance: this.opts.skewSeconds,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp'],
        // Also requires iat and refuses one in the future (beyond the skew).
        maxTokenAge: config.maxLifetimeSeconds,
      }));
      kid = header.kid;
    } catch (err) {
      throw jwtFailure(err);
    }
    // A stolen long-lived token stays useful for its whole life: cap what an issuer may mint.
    if (payload.exp! - payload.iat! > config.maxLifetimeSeconds) {
      throw authenticationError(`Token lifetime exceeds this issuer's maximum of ${config.maxLifetimeSeconds} s.`);
    }
    const identity = this.identity(config, payload as Record<string, unknown>, kid);
    const credentialId = typeof payload.jti === 'string' && payload.jti ? `jti:${payload.jti}` : `sub:${identity.user}@${payload.iat ?? 0}`;
    const principal: Principal = { source: config.issuer, subject: identity.user, ...identity, credentialId, kind: 'jwt' };
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(token, { principal, exp: payload.exp! });
    return principal;
  }

  /** Enrolled issuers: the key is looked up by kid in the registry, never taken from the token. */
  private readonly enrolledKeys: JWTVerifyGetKey = async (header) => {
    const found = this.opts.enrolledKey?.(header.kid);
    if (!found) throw new errors.JWKSNoMatchingKey();
    return found.key as CryptoKey;
  };

  /**
   * The principal an OpenID Provider's already-verified claims (an ID token from a console login)
   * name, by the same claim mapping as its access tokens. Only for `trust: openid` issuers.
   */
  openidPrincipal(issuer: string, payload: Record<string, unknown>, credentialId: string): Principal {
    const config = this.issuers.get(issuer)?.config;
    if (!config || config.trust !== 'openid') throw authenticationError(`"${issuer}" is not an OpenID Provider this gateway trusts.`);
    const identity = this.identity(config, payload, undefined);
    return { source: config.issuer, subject: identity.user, ...identity, credentialId, kind: 'jwt' };
  }

  /**
   * Who the token is, by what its issuer may assert. An OpenID Provider's claims are taken as they
   * are; a service issuer only within its pinned subjects and teams; an enrolled key is its user,
   * whatever the token says (a different `sub` is refused), within the teams that user may use.
   */
  private identity(config: IssuerConfig, payload: Record<string, unknown>, kid: string | undefined): Omit<Principal, 'source' | 'subject' | 'credentialId' | 'kind'> {
    if (config.trust === 'enrolled') {
      const enrolled = this.opts.enrolledKey?.(kid);
      if (!enrolled) throw authenticationError('Token was signed by a key this gateway does not know (unknown kid).');
      const { user, teams } = enrolled.entry;
      if (payload.sub !== undefined && payload.sub !== user) {
        throw authenticationError(`Token subject does not match the user its key is enrolled for ("${user}").`);
      }
      const claimed = claimAt(payload, config.claims.team);
      if (claimed !== undefined && (typeof claimed !== 'string' || !teams.includes(claimed))) {
        throw permissionError(`User "${user}" may not use team "${String(claimed)}"; enrolled for: ${teams.join(', ') || 'none'}.`);
      }
      return { user, team: (claimed as string | undefined) ?? teams[0] ?? UNASSIGNED_TEAM, keyId: kid! };
    }
    const identity = identityFromClaims(payload, config.claims, this.opts.knownTeams);
    if (config.trust === 'service') {
      if (!config.subjects!.some((glob) => globMatch(glob, identity.user))) {
        throw authenticationError(`Issuer "${config.issuer}" may not assert subject "${identity.user}".`);
      }
      if (!config.teams!.includes(identity.team)) throw permissionError(`Issuer "${config.issuer}" may not assert team "${identity.team}".`);
      return identity;
    }
    // Groups for admin rules: the configured groups path, else a `groups` claim, else a team claim that is an array.
    const groups = [config.claims.groups, 'groups', config.claims.team].map((path) => (path ? claimAt(payload, path) : undefined)).find(Array.isArray);
    return groups ? { ...identity, groups: groups.filter((g): g is string => typeof g === 'string') } : identity;
  }

  private async keysFor(state: IssuerState): Promise<JWTVerifyGetKey> {
    if (state.keys) return state.keys;
    state.loading ??= this.loadKeys(state.config).then(
      (keys) => (state.keys = keys),
      (err) => {
        state.loading = undefined; // try again on the next request
        throw err;
      },
    );
    return state.loading;
  }

  private async loadKeys(config: IssuerConfig): Promise<JWTVerifyGetKey> {
    if (config.jwksFile) return localKeys(config.jwksFile);
    const url = config.jwksUrl ?? (await discoverJwksUri(config.issuer));
    return createRemoteJWKSet(new URL(url), { cooldownDuration: config.jwksCooldownMs, timeoutDuration: 5_000 });
  }
}

function localKeys(file: string): JWTVerifyGetKey {
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`auth.issuers.jwksFile: cannot read a JWKS from ${file}`, { hint: 'write it with `claude-key jwt jwks > FILE`' });
  }
  if (!jwks || !Array.isArray((jwks as { keys?: unknown }).keys)) throw new ConfigError(`auth.issuers.jwksFile: ${file} has no "keys" array`);
  return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: { jwks_uri?: unknown; issuer?: unknown };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as typeof doc;
  } catch (err) {
    throw new GatewayError(503, 'api_error', `OIDC discovery for the token issuer failed (${(err as Error).message}).`);
  }
  if (doc.issuer !== issuer || typeof doc.jwks_uri !== 'string') {
    throw new GatewayError(503, 'api_error', 'OIDC discovery document does not match the configured issuer.');
  }
  return doc.jwks_uri;
}

/** jose's failure codes as one 401 line each; never echoes the token. */
function jwtFailure(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  // The issuer's keys could not be fetched: not the caller's fault, and a 401 would only make it retry.
  if (isNetworkError(err)) return new GatewayError(503, 'api_error', 'Could not fetch the token issuer keys.');
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return authenticationError('Token has expired; ask your apiKeyHelper for a new one.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (err as { claim?: string }).claim ?? 'a claim';
      return authenticationError(`Token "${claim}" claim check failed.`);
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return authenticationError('Token algorithm is not allowed.');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return authenticationError('Token was signed by a key this gateway does not know (unknown kid).');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authenticationError('Token signature is invalid.');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return new GatewayError(503, 'api_error', 'Could not fetch the token issuer keys.');
    default:
      return authenticationError('Malformed or unverifiable token.');
  }
}
