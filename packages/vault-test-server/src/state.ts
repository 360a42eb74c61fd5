// The in-memory records the test server keeps: tokens, mounts, secrets, roles, keys.
import type { KeyObject } from 'node:crypto';
import type { JWTVerifyGetKey } from 'jose';
import type { PolicyRule } from './acl.js';

export interface TokenRecord {
  id: string;
  accessor: string;
  /** '' for the root namespace, else e.g. `team-a` or `team-a/dev`. */
  namespace: string;
  policies: string[];
  displayName: string;
  path: string;
  meta: Record<string, string> | null;
  issuedAt: number;
  /** Seconds, as granted at creation. 0 = never expires (root tokens). */
  creationTtl: number;
  /** Milliseconds since the epoch; undefined = never expires. */
  expiresAt: number | undefined;
  /** Hard limit renewals cannot pass, in ms since the epoch. */
  maxExpiresAt: number | undefined;
  renewable: boolean;
  /** The identity entity the token belongs to (Vault ties login tokens to an entity). */
  entityId: string | undefined;
}

/** What a successful login grants (also the options of `createToken`). */
export interface TokenGrant {
  policies?: string[];
  /** Seconds; 0 means no expiry (only sensible for root-like tokens). Default 3600. */
  ttl?: number;
  /** Seconds from issue that renewals cannot pass. Default: none. */
  maxTtl?: number;
  renewable?: boolean;
  /** Pick the token string yourself (e.g. to hand it to a client as VAULT_TOKEN). */
  id?: string;
  meta?: Record<string, string>;
  displayName?: string;
  /** Entity the token belongs to, for identity tokens (`identity/oidc/token/<role>`). */
  entityId?: string;
}

/** An identity entity and the names of the groups it is in. */
export interface Entity {
  id: string;
  name: string;
  metadata: Record<string, string>;
  groups: string[];
}

/** A named key of the identity OIDC provider (`identity/oidc/key/<name>`). */
export interface OidcKey {
  name: string;
  algorithm: 'RS256' | 'ES256' | 'EdDSA';
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Client IDs allowed to use the key; `*` for any. */
  allowedClientIds: string[];
}

/** An identity token role (`identity/oidc/role/<name>`). */
export interface OidcRole {
  name: string;
  key: string;
  clientId: string;
  /** Seconds. */
  ttl: number;
  /** Vault's JSON template, e.g. `{"team": {{identity.entity.metadata.team}}}`. */
  template?: string;
}

export interface KvVersion {
  data: Record<string, unknown>;
  createdAt: number;
  deletedAt: number | undefined;
  destroyed: boolean;
}

export interface KvEntry {
  versions: KvVersion[];
  customMetadata: Record<string, string> | null;
}

export interface KvMount {
  type: 'kv';
  path: string;
  version: 1 | 2;
  entries: Map<string, KvEntry>;
}

export interface DynamicRole {
  name: string;
  /** Lease duration in seconds. */
  ttl: number;
  renewable: boolean;
  generate: () => Record<string, unknown>;
}

export interface DynamicMount {
  type: 'database';
  path: string;
  roles: Map<string, DynamicRole>;
}

export type TransitKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa-2048';

export interface TransitKeyVersion {
  privateKey: KeyObject;
  publicKey: KeyObject;
  createdAt: number;
}

export interface TransitKey {
  name: string;
  type: TransitKeyType;
  versions: TransitKeyVersion[];
}

export interface TransitMount {
  type: 'transit';
  path: string;
  keys: Map<string, TransitKey>;
}

export type SecretMount = KvMount | DynamicMount | TransitMount;

export interface AppRoleRole extends TokenGrant {
  name: string;
  roleId: string;
  secretId: string;
}

export interface JwtRole extends TokenGrant {
  name: string;
  boundAudiences?: string[];
  boundSubject?: string;
  /** Claim copied into the token's metadata as `role`'s user (Vault's `user_claim`). Default `sub`. */
  userClaim?: string;
}

export interface JwtAuthConfig {
  /** How signatures are checked: a jose key resolver (`createLocalJWKSet`) or a public key. */
  key: JWTVerifyGetKey | KeyObject;
  boundIssuer?: string;
  roles: JwtRole[];
}

export interface KubernetesRole extends TokenGrant {
  name: string;
  /** The service-account JWT this role accepts (stands in for Kubernetes' TokenReview). */
  serviceAccountJwt: string;
}

export type AuthMount =
  | { type: 'approle'; path: string; roles: AppRoleRole[] }
  | { type: 'jwt'; path: string; config: JwtAuthConfig }
  | { type: 'kubernetes'; path: string; roles: KubernetesRole[] };

/** Everything one Vault namespace holds. */
export interface NamespaceState {
  path: string;
  mounts: Map<string, SecretMount>;
  authMounts: Map<string, AuthMount>;
  policies: Map<string, PolicyRule[]>;
  entities: Map<string, Entity>;
  oidcKeys: Map<string, OidcKey>;
  oidcRoles: Map<string, OidcRole>;
}
