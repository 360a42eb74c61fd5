// Reads the secret: KV v1/v2 (version found by the mounts preflight, as the vault CLI does) or any leased path.
import { AuthError, NotFoundError, UsageError, isClaudeKeyError, type ProviderContext } from '@claude-key/core';
import type { VaultClient, VaultEnvelope } from './client.js';
import type { ResolvedConnection } from './connection.js';
import type { VaultOptions } from './options.js';

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
  /** Mount path with a trailing slash ('' when unknown). */
  mount: string;
}

const trimSlashes = (value: string) => value.replace(/^\/+|\/+$/g, '');
const PREFLIGHT_MAX_AGE_MS = 60 * 60 * 1000;

async function preflight(client: VaultClient, conn: ResolvedConnection, path: string, ctx: ProviderContext): Promise<Layout> {
  const key = { address: conn.address, namespace: conn.namespace, path };
  const load = async () => {
    let info;
    try {
      info = await client.mountInfo(path);
    } catch (err) {
      if (isClaudeKeyError(err) && err.code === 'AUTH') {
        throw new AuthError(`Vault refused the KV preflight for ${path} on ${conn.address} (permission denied)`, {
          hint: `check the mount exists, the token is valid and its policy grants read on ${path} (KV v2: on <mount>/data/...), or pass --kv-version 1|2 to skip the preflight`,
        });
      }
      throw err;
    }
    // Vault before 0.10 has no preflight endpoint: everything is KV v1 there.
    const layout: Layout = info ? { kvVersion: info.kvVersion, mount: info.path } : { kvVersion: 1, mount: '' };
    return { value: JSON.stringify(layout) };
  };
  // Mount layout changes rarely; remembering it saves a round trip on every cold fetch.
  return JSON.parse(await ctx.cached('vault-mount', key, load, { maxAgeMs: PREFLIGHT_MAX_AGE_MS })) as Layout;
}

async function layoutOf(client: VaultClient, conn: ResolvedConnection, options: VaultOptions, path: string, ctx: ProviderContext): Promise<Layout> {
  if (options.raw) return { kvVersion: undefined, mount: '' };
  if (options.kvVersion) return { kvVersion: options.kvVersion, mount: `${path.split('/')[0]}/` };
  return preflight(client, conn, path, ctx);
}

/** `secret/app` on KV v2 mount `secret/` reads `secret/data/app`; a path already holding data/ is kept. */
function kv2ApiPath(path: string, mount: string): string {
  const rest = path.slice(mount.length);
  return rest.startsWith('data/') ? path : `${mount}data/${rest}`;
}

function notFoundV2(path: string, options: VaultOptions, body: unknown): NotFoundError {
  const metadata = (body as VaultEnvelope<{ metadata?: { deletion_time?: string; destroyed?: boolean; version?: number } }> | undefined)?.data?.metadata;
  const which = options.version ? `version ${options.version} of ${path}` : `the latest version of ${path}`;
  if (metadata?.destroyed) return new NotFoundError(`${which} was destroyed`, { hint: 'pin another version with --version' });
  if (metadata?.deletion_time) {
    return new NotFoundError(`${which} was deleted at ${metadata.deletion_time}`, { hint: 'undelete it (vault kv undelete) or pin another version with --version' });
  }
  return new NotFoundError(options.version ? `${which} does not exist` : `no secret at ${path}`, {
    hint: 'check the path (as `vault kv get` takes it) and the namespace',
  });
}

export async function readSecret(client: VaultClient, conn: ResolvedConnection, options: VaultOptions, ctx: ProviderContext): Promise<SecretRead> {
  const path = trimSlashes(options.path);
  const layout = await layoutOf(client, conn, options, path, ctx);
  if (options.version !== undefined && layout.kvVersion !== 2) {
    throw new UsageError(`--version needs a KV v2 mount, but ${path} is ${layout.kvVersion ? 'on KV v1' : 'not on a KV mount'}`);
  }
  const apiPath = layout.kvVersion === 2 ? kv2ApiPath(path, layout.mount) : path;
  const query = options.version ? { version: String(options.version) } : undefined;
  const answer = await client.request('GET', apiPath, { query, capability: 'read', allowStatus: [404] });
  if (answer.status === 404) {
    if (layout.kvVersion === 2) throw notFoundV2(path, options, answer.body);
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
