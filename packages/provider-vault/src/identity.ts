// `claude-key vault identity --role NAME`: a Vault identity token, a JWT Vault signs with the caller's entity and group data.
import { ConfigError, NotFoundError, UnreachableError, type Credential } from '@claude-key/core';
import type { VaultClient, VaultEnvelope } from './client.js';
import type { ResolvedConnection } from './connection.js';
import type { VaultOptions } from './options.js';
import { vaultReasons } from './vault-errors.js';

/** `exp` of a compact JWS, read without verifying: the token came from Vault, and the gateway verifies it. */
function expiryOf(token: string): number | undefined {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `GET identity/oidc/token/<role>` (Vault API docs, "Identity tokens": Generate a signed ID token).
 * Vault answers 400 with a fixed text when the role is missing or the token has no entity.
 */
export async function readIdentityToken(client: VaultClient, conn: ResolvedConnection, options: VaultOptions, now: number): Promise<Credential> {
  const role = options.role!; // the schema requires it for identity
  const apiPath = `identity/oidc/token/${encodeURIComponent(role)}`;
  const answer = await client.request('GET', apiPath, { capability: 'read', allowStatus: [400] });
  const where = `${conn.address}${conn.namespace ? ` (namespace ${conn.namespace})` : ''}`;
  if (answer.status === 400) {
    const reason = vaultReasons((answer.body as { errors?: unknown } | undefined)?.errors);
    if (/role ".*" not found/.test(reason)) {
      throw new NotFoundError(`Vault at ${where} has no identity token role "${role}"`, {
        hint: `create it: vault write identity/oidc/role/${role} key=<named key> ttl=15m (and let the key allow its client_id)`,
      });
    }
    if (/no entity associated/.test(reason)) {
      throw new ConfigError(`Vault cannot sign an identity token for this login: the token has no identity entity`, {
        hint: 'log in with an auth method that maps to an entity (--auth approle, jwt or kubernetes, or `vault login -method=oidc`); a plain `vault token create` token has none',
      });
    }
    throw new ConfigError(`Vault rejected the identity token request for role "${role}" on ${where} (${reason || 'HTTP 400'})`);
  }
  const data = (answer.body as VaultEnvelope<{ token?: unknown; client_id?: unknown; ttl?: unknown }> | undefined)?.data;
  const token = typeof data?.token === 'string' ? data.token : '';
  if (token.split('.').length !== 3) throw new UnreachableError(`Vault at ${where} answered ${apiPath} without a signed token`);
  const ttl = Number(data?.ttl) || 0;
  const expiresAt = expiryOf(token) ?? (ttl > 0 ? now + ttl * 1000 : undefined);
  const meta = { kind: 'identity', role, ...(typeof data?.client_id === 'string' ? { clientId: data.client_id } : {}), ...(ttl ? { ttlSeconds: ttl } : {}) };
  return expiresAt === undefined ? { token, meta } : { token, expiresAt, meta };
}
