// Reads the secret: KV v1/v2 (version found by the mounts preflight, as the vault CLI does) or any leased path.
import { AuthError, ConfigError, NotFoundError, UsageError, isClaudeKeyError, type ProviderContext } from '@claude-key/core';
import type { VaultClient, VaultEnvelope } from './client.js';
import type { ResolvedConnection } from './connection.js';
import type { VaultOptions } from './options.js';
import { vaultReasons } from './vault-errors.js';

export interface SecretRead {
  data: Record<string, unknown>;
  /** Undefined when the path is not on a KV mount (dynamic or other engines). */
  kvVersion: 1 | 2 | undefined;
  /** KV v2 version number that was read. */
  version?: number;
  leaseId: string;
  leaseDuration: number;
  renewable: boolean;
}

interface Layout {
  kvVersion: 1 | 2 | undefined;
  /** Mount path relative to the request's namespace, with a trailing slash ('' when unknown). */
  mount: string;
}

const trimSlashes = (value: string) => value.replace(/^\/+|\/+$/g, '');
const PREFLIGHT_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * The mount as the user's path names it. The preflight names a mount in a child namespace with
 * that namespace's full path in front (`admin/team/secret/` for `team/secret/app` asked under
 * VAULT_NAMESPACE=admin): drop leading segments until the rest starts the path, as the vault CLI's
 * addPrefixToKVPath does (command/kv_helpers.go, test case "with-namespace"). Whole segments only.
 */
export function mountWithinPath(path: string, mountPath: string): string | undefined {
  const mountSegments = trimSlashes(mountPath).split('/').filter(Boolean);
  const pathSegments = path.split('/');
  for (let drop = 0; drop < mountSegments.length; drop++) {
    const candidate = mountSegments.slice(drop);
    if (candidate.every((segment, i) => pathSegments[i] === segment)) return `${candidate.join('/')}/`;
  }
  return undefined;
}

async function preflight(client: VaultClient, conn: ResolvedConnection, path: string, ctx: ProviderContext): Promise<{ kvVersion: 1 | 2 | undefined; mountPath: string }> {
  const key = { address: conn.address, namespace: conn.namespace, path, shape: 2 };
  const load = async () => {
    let info;
    try {
      info = await client.mountInfo(path);
    } catch (err) {
      if (isClaudeKeyError(err) && err.code === 'AUTH') {
        // Vault answers 403 both for a path on no mount and for a token with no grant under it.
        throw new AuthError(`Vault refused the KV preflight for ${path} on ${conn.address}: no secrets engine is mounted there, or the token may not use it`, {
          hint: `check the mount exists (vault secrets list${conn.namespace ? ` -namespace=${conn.namespace}` : ''}) and the token's policy grants read on ${path} (KV v2: on <mount>/data/...), or pass --kv-version 1|2 (and --mount) to skip the preflight`,
        });
      }
      throw err;
    }
    // Vault before 0.10 has no preflight endpoint: everything is KV v1 there.
    return { value: JSON.stringify(info ? { kvVersion: info.kvVersion, mountPath: info.path } : { kvVersion: 1, mountPath: '' }) };
  };
  // Mount layout changes rarely; remembering it saves a round trip on every cold fetch.
  return JSON.parse(await ctx.cached('vault-mount', key, load, { maxAgeMs: PREFLIGHT_MAX_AGE_MS })) as { kvVersion: 1 | 2 | undefined; mountPath: string };
}

/** Where the secret is: `path` is the whole path, `layout.mount` the part of it that is the mount. */
async function locate(client: VaultClient, conn: ResolvedConnection, options: VaultOptions, ctx: ProviderContext): Promise<{ path: string; layout: Layout }> {
  const given = options.path!; // the schema requires it for secrets
  if (options.mount !== undefined) {
    // `vault kv get -mount=team/kv app`: the mount is given, --path is the secret inside it.
    const mount = trimSlashes(options.mount);
    const path = `${mount}/${trimSlashes(given)}`;
    if (options.raw) return { path, layout: { kvVersion: undefined, mount: '' } };
    const kvVersion = options.kvVersion ?? (await preflight(client, conn, mount, ctx)).kvVersion;
    return { path, layout: { kvVersion, mount: kvVersion ? `${mount}/` : '' } };
  }
  const path = trimSlashes(given);
  if (options.raw) return { path, layout: { kvVersion: undefined, mount: '' } };
  // Without --mount the split is a guess: the first segment, as the vault CLI's KV helpers assume.
  if (options.kvVersion) return { path, layout: { kvVersion: options.kvVersion, mount: `${path.split('/')[0]}/` } };
  const found = await preflight(client, conn, path, ctx);
  if (!found.kvVersion || !found.mountPath) return { path, layout: { kvVersion: found.kvVersion, mount: '' } };
  const mount = mountWithinPath(path, found.mountPath);
  if (mount === undefined) {
    throw new ConfigError(`Vault says ${path} is on mount ${found.mountPath}, which is not a prefix of the path`, {
      hint: 'give the mount with --mount and the secret inside it with --path',
    });
  }
  return { path, layout: { kvVersion: found.kvVersion, mount } };
}

/**
 * `secret/app` on KV v2 mount `secret/` reads `secret/data/app`. Like `vault kv get`, data/ is
 * added even when the path already holds one (openbao internal/command/kv_get.go calls
 * addPrefixToKVPath with skipIfExists=false): `secret/data/app` reads `secret/data/data/app`.
 */
function kv2ApiPath(path: string, mount: string): string {
  const rest = path.slice(mount.length);
  if (!rest) throw new UsageError(`--path ${path} names the KV mount itself; add the secret's path inside it`);
  return `${mount}data/${rest}`;
}

function notFoundV2(path: string, mount: string, options: VaultOptions, body: unknown): NotFoundError {
  const metadata = (body as VaultEnvelope<{ metadata?: { deletion_time?: string; destroyed?: boolean; version?: number } }> | undefined)?.data?.metadata;
  const which = options.version ? `version ${options.version} of ${path}` : `the latest version of ${path}`;
  if (metadata?.destroyed) return new NotFoundError(`${which} was destroyed`, { hint: 'pin another version with --version' });
  if (metadata?.deletion_time) {
    return new NotFoundError(`${which} was deleted at ${metadata.deletion_time}`, { hint: 'undelete it (vault kv undelete) or pin another version with --version' });
  }
  if (!options.version && path.slice(mount.length).startsWith('data/')) {
    return new NotFoundError(`no secret at ${path} (read as ${kv2ApiPath(path, mount)}, as \`vault kv get\` does)`, {
      hint: `leave data/ out: --path ${mount}${path.slice(mount.length + 5)}`,
    });
  }
  return new NotFoundError(options.version ? `${which} does not exist` : `no secret at ${path}`, {
    hint: 'check the path (as `vault kv get` takes it) and the namespace',
  });
}

export async function readSecret(client: VaultClient, conn: ResolvedConnection, options: VaultOptions, ctx: ProviderContext): Promise<SecretRead> {
  const { path, layout } = await locate(client, conn, options, ctx);
  if (options.version !== undefined && layout.kvVersion !== 2) {
    throw new UsageError(`--version needs a KV v2 mount, but ${path} is ${layout.kvVersion ? 'on KV v1' : 'not on a KV mount'}`);
  }
  const apiPath = layout.kvVersion === 2 ? kv2ApiPath(path, layout.mount) : path;
  const query = options.version ? { version: String(options.version) } : undefined;
  const answer = await client.request('GET', apiPath, { query, capability: 'read', allowStatus: [404] });
  if (answer.status === 404) {
    // The router's text for a path on no mount (openbao internal/vault/routing/router.go).
    if (/no handler for route/.test(vaultReasons((answer.body as { errors?: unknown } | undefined)?.errors))) {
      const mount = layout.mount || `${path.split('/')[0]}/`;
      throw new NotFoundError(`no secrets engine is mounted at ${mount} on ${conn.address}${conn.namespace ? ` (namespace ${conn.namespace})` : ''}`, {
        hint: `check the mount path (vault secrets list) and the namespace; for a mount of several segments pass --mount`,
      });
    }
    if (layout.kvVersion === 2) throw notFoundV2(path, layout.mount, options, answer.body);
    throw new NotFoundError(`no secret at ${path}${layout.kvVersion ? ' (KV v1)' : ''}`, { hint: 'check the path and the namespace' });
  }
  const envelope = answer.body as VaultEnvelope | undefined;
  const outer = envelope?.data ?? {};
  const inner = layout.kvVersion === 2 ? (outer as { data?: unknown; metadata?: { version?: unknown } }) : undefined;
  const data = inner ? inner.data : outer;
  if (typeof data !== 'object' || data === null) throw new NotFoundError(`no secret data at ${path}`);
  return {
    data: data as Record<string, unknown>,
    kvVersion: layout.kvVersion,
    version: typeof inner?.metadata?.version === 'number' ? inner.metadata.version : undefined,
    leaseId: typeof envelope?.lease_id === 'string' ? envelope.lease_id : '',
    leaseDuration: Number(envelope?.lease_duration) || 0,
    renewable: envelope?.renewable === true,
  };
}
