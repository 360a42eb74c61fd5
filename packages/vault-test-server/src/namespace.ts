// The setup API tests use to shape one Vault namespace: mounts, secrets, policies, tokens, roles, keys.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { PolicyRule } from './acl.js';
import type {
  AppRoleRole, AuthMount, DynamicRole, OidcKey, OidcRole, JwtAuthConfig, KubernetesRole, KvMount, NamespaceState, SecretMount,
  TokenGrant, TransitKey, TransitKeyType, TransitMount,
} from './state.js';
import type { TokenStore } from './tokens.js';
import { newTransitKeyVersion } from './transit.js';

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, '');

/** Finds the mount a path falls under (longest mount path wins) and the rest of the path. */
export function matchMount(state: NamespaceState, path: string): { mount: SecretMount; rest: string } | undefined {
  let best: SecretMount | undefined;
  for (const mount of state.mounts.values()) {
    if ((path === mount.path || path.startsWith(`${mount.path}/`)) && (!best || mount.path.length > best.path.length)) best = mount;
  }
  return best && { mount: best, rest: trimSlashes(path.slice(best.path.length)) };
}

export class VaultNamespace {
  readonly state: NamespaceState;

  constructor(
    path: string,
    private readonly tokens: TokenStore,
    private readonly now: () => number,
  ) {
    this.state = { path, mounts: new Map(), authMounts: new Map(), policies: new Map(), entities: new Map(), oidcKeys: new Map(), oidcRoles: new Map() };
  }

  get path(): string {
    return this.state.path;
  }

  enableKv(path: string, version: 1 | 2 = 2): this {
    return this.mount({ type: 'kv', path: trimSlashes(path), version, entries: new Map() });
  }

  /** Writes a secret at `mount/path` (no `data/` segment) and returns its new version. */
  putSecret(fullPath: string, data: Record<string, unknown>): number {
    const { mount, rest } = this.kvMount(fullPath);
    const entry = mount.entries.get(rest) ?? { versions: [], customMetadata: null };
    const version = { data: structuredClone(data), createdAt: this.now(), deletedAt: undefined, destroyed: false };
    // KV v1 keeps no history: a write replaces the only version.
    if (mount.version === 1) entry.versions = [version];
    else entry.versions.push(version);
    mount.entries.set(rest, entry);
    return entry.versions.length;
  }

  /** Soft-deletes one KV v2 version, as `vault kv delete -versions=N` does. */
  deleteSecretVersion(fullPath: string, version: number): void {
    const { mount, rest } = this.kvMount(fullPath);
    const found = mount.entries.get(rest)?.versions[version - 1];
    if (!found) throw new Error(`test setup: ${fullPath} has no version ${version}`);
    found.deletedAt = this.now();
  }

  addPolicy(name: string, rules: PolicyRule[]): this {
    this.state.policies.set(name, rules);
    return this;
  }

  /** Issues a token in this namespace (like `vault token create`) and returns its string. */
  createToken(grant: TokenGrant = {}): string {
    return this.tokens.issue(this.path, grant, 'auth/token/create').id;
  }

  /** Mounts AppRole; roles without a roleId/secretId get random ones. Returns the roles with both. */
  enableAppRole(roles: (Omit<AppRoleRole, 'roleId' | 'secretId'> & Partial<Pick<AppRoleRole, 'roleId' | 'secretId'>>)[], path = 'approle'): AppRoleRole[] {
    const full = roles.map((role) => ({
      ...role,
      roleId: role.roleId ?? randomUUID(),
      secretId: role.secretId ?? randomUUID(),
    }));
    this.auth({ type: 'approle', path: `auth/${trimSlashes(path)}`, roles: full });
    return full;
  }

  enableJwt(config: JwtAuthConfig, path = 'jwt'): this {
    return this.auth({ type: 'jwt', path: `auth/${trimSlashes(path)}`, config });
  }

  enableKubernetes(roles: KubernetesRole[], path = 'kubernetes'): this {
    return this.auth({ type: 'kubernetes', path: `auth/${trimSlashes(path)}`, roles });
  }

  /** A dynamic secrets engine answering `<path>/creds/<role>` with a fresh lease each read. */
  enableDatabase(roles: (Partial<DynamicRole> & { name: string })[], path = 'database'): this {
    const map = new Map<string, DynamicRole>();
    for (const role of roles) {
      map.set(role.name, {
        name: role.name,
        ttl: role.ttl ?? 3600,
        renewable: role.renewable ?? true,
        generate: role.generate ?? (() => ({ username: `v-${role.name}-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('base64url') })),
      });
    }
    return this.mount({ type: 'database', path: trimSlashes(path), roles: map });
  }

  enableTransit(path = 'transit'): this {
    return this.mount({ type: 'transit', path: trimSlashes(path), keys: new Map() });
  }

  /** Creates a transit signing key (like `vault write transit/keys/<name> type=...`). */
  createTransitKey(name: string, type: TransitKeyType = 'ecdsa-p256', mountPath = 'transit'): TransitKey {
    const mount = this.transitMount(mountPath);
    const key: TransitKey = { name, type, versions: [newTransitKeyVersion(type, this.now())] };
    mount.keys.set(name, key);
    return key;
  }

  /** Adds a new key version that becomes the one used for signing (`vault write -f transit/keys/<name>/rotate`). */
  rotateTransitKey(name: string, mountPath = 'transit'): number {
    const key = this.transitMount(mountPath).keys.get(name);
    if (!key) throw new Error(`test setup: no transit key ${name}`);
    key.versions.push(newTransitKeyVersion(key.type, this.now()));
    return key.versions.length;
  }

  /** An identity entity (`vault write identity/entity name=...`); give its id to a token or login role as `entityId`. */
  createEntity(entity: { name: string; metadata?: Record<string, string>; groups?: string[] }): string {
    const id = randomUUID();
    this.state.entities.set(id, { id, name: entity.name, metadata: entity.metadata ?? {}, groups: entity.groups ?? [] });
    return id;
  }

  /** A named key of the identity OIDC provider (`vault write identity/oidc/key/<name> algorithm=...`). */
  createOidcKey(name: string, algorithm: OidcKey['algorithm'] = 'RS256', allowedClientIds: string[] = ['*']): OidcKey {
    const pair = algorithm === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    const key: OidcKey = { name, algorithm, kid: randomUUID(), ...pair, allowedClientIds };
    this.state.oidcKeys.set(name, key);
    return key;
  }

  /** An identity token role (`vault write identity/oidc/role/<name> key=... template=...`); client_id defaults to a random one, as in Vault. */
  createOidcRole(name: string, role: { key: string; clientId?: string; ttl?: number; template?: string }): OidcRole {
    const full: OidcRole = { name, key: role.key, clientId: role.clientId ?? randomBytes(16).toString('base64url'), ttl: role.ttl ?? 86_400, ...(role.template ? { template: role.template } : {}) };
    this.state.oidcRoles.set(name, full);
    return full;
  }

  private mount(mount: SecretMount): this {
    this.state.mounts.set(mount.path, mount);
    return this;
  }

  private auth(mount: AuthMount): this {
    this.state.authMounts.set(mount.path, mount);
    return this;
  }

  private kvMount(fullPath: string): { mount: KvMount; rest: string } {
    const found = matchMount(this.state, trimSlashes(fullPath));
    if (!found || found.mount.type !== 'kv') throw new Error(`test setup: no KV mount for ${fullPath}`);
    return { mount: found.mount, rest: found.rest };
  }

  private transitMount(path: string): TransitMount {
    const mount = this.state.mounts.get(trimSlashes(path));
    if (!mount || mount.type !== 'transit') throw new Error(`test setup: no transit mount at ${path}`);
    return mount;
  }
}
