// The identity secrets engine's OIDC token provider: `identity/oidc/token/<role>`, discovery and keys.
//
// Follows Vault's "Identity tokens" docs and API (/api-docs/secret/identity/tokens) and openbao
// internal/vault/identity/store_oidc.go: the token is a JWT signed by the role's named key with
// iss = <api_addr>/v1/<namespace/>identity/oidc, sub = entity id, aud = the role's client_id,
// iat/exp, namespace, plus the claims of the role's JSON template filled from entity and group data.
import { exportJWK, SignJWT } from 'jose';
import type { VaultRequest } from './request.js';
import type { Entity, NamespaceState, OidcKey, OidcRole } from './state.js';
import { VaultHttpError, badRequest, envelope, type VaultReply } from './wire.js';

/** `id_token_signing_alg_values_supported` as Vault lists it (store_oidc.go SupportedAlgs). */
const SUPPORTED_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Claims the template may not set (store_oidc.go ReservedClaims, the ones this server models). */
const RESERVED = new Set(['iat', 'aud', 'exp', 'iss', 'sub', 'namespace', 'nonce', 'auth_time', 'at_hash', 'c_hash']);

/** The issuer of a namespace's tokens: `<address>/v1/<ns/>identity/oidc`. */
export function issuerOf(address: string, nsPath: string): string {
  return `${address}/v1/${nsPath ? `${nsPath}/` : ''}identity/oidc`;
}

/**
 * Vault's JSON templating: each `{{identity.entity...}}` placeholder becomes the JSON value it
 * names (strings quoted, group names an array); the result must be a JSON object. Only the
 * placeholders below are modelled (Vault's "Identity token templates" lists more).
 */
function populate(template: string, entity: Entity): Record<string, unknown> {
  const value = (name: string): unknown => {
    if (name === 'identity.entity.id') return entity.id;
    if (name === 'identity.entity.name') return entity.name;
    if (name === 'identity.entity.metadata') return entity.metadata;
    if (name.startsWith('identity.entity.metadata.')) return entity.metadata[name.slice('identity.entity.metadata.'.length)] ?? '';
    if (name === 'identity.entity.groups.names') return entity.groups;
    return '';
  };
  const filled = template.replace(/\{\{\s*([a-z_.A-Z0-9-]+)\s*\}\}/g, (_, name: string) => JSON.stringify(value(name)));
  const parsed: unknown = JSON.parse(filled);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter(([claim]) => !RESERVED.has(claim)));
}

function roleAndKey(state: NamespaceState, name: string): { role: OidcRole; key: OidcKey } {
  const role = state.oidcRoles.get(name);
  // Error texts of pathOIDCGenerateToken; an ErrorResponse with no error is a 400.
  if (!role) throw badRequest(`role "${name}" not found`);
  const key = state.oidcKeys.get(role.key);
  if (!key) throw badRequest(`key "${role.key}" not found`);
  if (!key.allowedClientIds.includes('*') && !key.allowedClientIds.includes(role.clientId)) {
    throw badRequest(`the key "${role.key}" does not list the client ID of the role "${name}" as an allowed client ID`);
  }
  return { role, key };
}

/** `GET identity/oidc/token/<role>`: a signed ID token for the caller's entity. */
export async function handleIdentityToken(name: string, req: VaultRequest, issuer: string): Promise<VaultReply> {
  if (req.op !== 'read') throw new VaultHttpError(405, ['unsupported operation']);
  const { role, key } = roleAndKey(req.ns.state, name);
  const entity = req.token?.entityId ? req.ns.state.entities.get(req.token.entityId) : undefined;
  if (!entity) throw badRequest("no entity associated with the request's token");
  const now = Math.floor(req.now() / 1000);
  const claims = role.template ? populate(role.template, entity) : {};
  const token = await new SignJWT({ ...claims, namespace: req.ns.path ? req.ns.path : 'root' })
    .setProtectedHeader({ alg: key.algorithm, kid: key.kid })
    .setIssuer(issuer)
    .setSubject(entity.id)
    .setAudience(role.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + role.ttl)
    .sign(key.privateKey);
  return envelope({ data: { client_id: role.clientId, token, ttl: role.ttl } });
}

/** The unauthenticated `.well-known` documents, raw JSON (not the response envelope), as Vault serves them. */
export async function handleWellKnown(which: 'openid-configuration' | 'keys', state: NamespaceState, issuer: string): Promise<VaultReply> {
  if (which === 'openid-configuration') {
    return {
      status: 200,
      headers: { 'cache-control': 'max-age=3600' },
      body: {
        issuer,
        jwks_uri: `${issuer}/.well-known/keys`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: SUPPORTED_ALGS,
      },
    };
  }
  const keys = await Promise.all(
    [...state.oidcKeys.values()].map(async (key) => ({ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.algorithm, use: 'sig' })),
  );
  return { status: 200, body: { keys } };
}
