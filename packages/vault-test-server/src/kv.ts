// The KV secrets engine, version 1 (plain paths) and version 2 (`data/` and `metadata/` with versions).
import type { VaultRequest } from './request.js';
import type { KvEntry, KvMount, KvVersion } from './state.js';
import { VaultHttpError, badRequest, envelope, noContent, rfc3339, type VaultReply } from './wire.js';

/** KV v1 answers reads with this lease_duration: a refresh hint (768h), not an expiry. */
const KV1_REFRESH_HINT_SECONDS = 2_764_800;

function versionMetadata(entry: KvEntry, version: KvVersion, number: number): Record<string, unknown> {
  return {
    created_time: rfc3339(version.createdAt),
    custom_metadata: entry.customMetadata,
    deletion_time: version.deletedAt === undefined ? '' : rfc3339(version.deletedAt),
    destroyed: version.destroyed,
    version: number,
  };
}

const notFound = () => new VaultHttpError(404, []);

function kv1(mount: KvMount, rest: string, req: VaultRequest): VaultReply {
  if (req.op === 'read') {
    const entry = mount.entries.get(rest);
    if (!entry || !entry.versions[0]) throw notFound();
    return envelope({ data: entry.versions[0].data, leaseDuration: KV1_REFRESH_HINT_SECONDS, mountType: 'kv' });
  }
  if (req.op === 'create' || req.op === 'update') {
    const version = { data: req.body, createdAt: req.now(), deletedAt: undefined, destroyed: false };
    mount.entries.set(rest, { versions: [version], customMetadata: null });
    return noContent;
  }
  if (req.op === 'delete') {
    mount.entries.delete(rest);
    return noContent;
  }
  throw notFound();
}

function kv2Read(mount: KvMount, secretPath: string, req: VaultRequest): VaultReply {
  const entry = mount.entries.get(secretPath);
  if (!entry || entry.versions.length === 0) throw notFound();
  const requested = req.query.get('version');
  const number = requested && requested !== '0' ? Number(requested) : entry.versions.length;
  if (!Number.isInteger(number) || number < 1) throw badRequest('invalid version');
  const version = entry.versions[number - 1];
  if (!version) throw notFound();
  const metadata = versionMetadata(entry, version, number);
  // A deleted or destroyed version answers 404 but still carries its metadata, as Vault does.
  if (version.deletedAt !== undefined || version.destroyed) {
    const reply = envelope({ data: { data: null, metadata }, mountType: 'kv' });
    return { status: 404, body: reply.body };
  }
  return envelope({ data: { data: version.data, metadata }, mountType: 'kv' });
}

function kv2Write(mount: KvMount, secretPath: string, req: VaultRequest): VaultReply {
  const data = req.body.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw badRequest('no data provided');
  const entry = mount.entries.get(secretPath) ?? { versions: [], customMetadata: null };
  const version = { data: data as Record<string, unknown>, createdAt: req.now(), deletedAt: undefined, destroyed: false };
  entry.versions.push(version);
  mount.entries.set(secretPath, entry);
  const { custom_metadata, created_time, deletion_time, destroyed, version: number } = versionMetadata(entry, version, entry.versions.length);
  return envelope({ data: { created_time, custom_metadata, deletion_time, destroyed, version: number }, mountType: 'kv' });
}

function kv2Metadata(mount: KvMount, secretPath: string): VaultReply {
  const entry = mount.entries.get(secretPath);
  if (!entry || entry.versions.length === 0) throw notFound();
  const versions: Record<string, unknown> = {};
  entry.versions.forEach((version, index) => {
    versions[String(index + 1)] = {
      created_time: rfc3339(version.createdAt),
      deletion_time: version.deletedAt === undefined ? '' : rfc3339(version.deletedAt),
      destroyed: version.destroyed,
    };
  });
  return envelope({
    data: {
      cas_required: false,
      created_time: rfc3339(entry.versions[0]!.createdAt),
      current_version: entry.versions.length,
      custom_metadata: entry.customMetadata,
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: 0,
      updated_time: rfc3339(entry.versions.at(-1)!.createdAt),
      versions,
    },
    mountType: 'kv',
  });
}

export function handleKv(mount: KvMount, rest: string, req: VaultRequest): VaultReply {
  if (mount.version === 1) return kv1(mount, rest, req);
  const slash = rest.indexOf('/');
  const area = slash === -1 ? rest : rest.slice(0, slash);
  const secretPath = slash === -1 ? '' : rest.slice(slash + 1);
  if (area === 'data' && secretPath) {
    if (req.op === 'read') return kv2Read(mount, secretPath, req);
    if (req.op === 'create' || req.op === 'update') return kv2Write(mount, secretPath, req);
  }
  if (area === 'metadata' && secretPath && req.op === 'read') return kv2Metadata(mount, secretPath);
  // A v1-style path on a v2 mount: Vault answers 404 with a warning that names the mistake.
  throw new VaultHttpError(404, [], {
    warnings: ["Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation."],
  });
}
