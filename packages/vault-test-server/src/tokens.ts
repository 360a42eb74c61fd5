// Token issuing, lookup and renewal, with the `auth` block Vault returns on login and renew.
import { randomBytes } from 'node:crypto';
import type { TokenGrant, TokenRecord } from './state.js';
import { rfc3339 } from './wire.js';

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(private readonly now: () => number) {}

  issue(namespace: string, grant: TokenGrant, path: string): TokenRecord {
    const issuedAt = this.now();
    const ttl = grant.ttl ?? 3600;
    const record: TokenRecord = {
      id: grant.id ?? `hvs.${randomBytes(24).toString('base64url')}`,
      accessor: randomBytes(12).toString('base64url'),
      namespace,
      policies: grant.policies ?? ['default'],
      displayName: grant.displayName ?? 'token',
      path,
      meta: grant.meta ?? null,
      issuedAt,
      creationTtl: ttl,
      expiresAt: ttl > 0 ? issuedAt + ttl * 1000 : undefined,
      maxExpiresAt: grant.maxTtl ? issuedAt + grant.maxTtl * 1000 : undefined,
      renewable: grant.renewable ?? ttl > 0,
      entityId: grant.entityId,
    };
    this.tokens.set(record.id, record);
    return record;
  }

  /** The live token for this id, or undefined when unknown, revoked or expired. */
  find(id: string | undefined): TokenRecord | undefined {
    if (!id) return undefined;
    const record = this.tokens.get(id);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= this.now()) {
      this.tokens.delete(id);
      return undefined;
    }
    return record;
  }

  revoke(id: string): void {
    this.tokens.delete(id);
  }

  /** Revokes every token the filter picks (default: all but never-expiring root tokens), e.g. to test re-login. */
  revokeWhere(filter: (record: TokenRecord) => boolean = (record) => !record.policies.includes('root')): number {
    let revoked = 0;
    for (const record of [...this.tokens.values()]) {
      if (filter(record)) {
        this.tokens.delete(record.id);
        revoked++;
      }
    }
    return revoked;
  }

  /** Extends the token by `increment` seconds (default: its creation TTL), capped by max TTL. */
  renew(record: TokenRecord, incrementSeconds?: number): void {
    const increment = incrementSeconds && incrementSeconds > 0 ? incrementSeconds : record.creationTtl;
    let expiresAt = this.now() + increment * 1000;
    if (record.maxExpiresAt !== undefined) expiresAt = Math.min(expiresAt, record.maxExpiresAt);
    record.expiresAt = expiresAt;
  }

  /** Whole seconds left, as Vault reports `ttl`/`lease_duration` (0 for never-expiring tokens). */
  secondsLeft(record: TokenRecord): number {
    return record.expiresAt === undefined ? 0 : Math.max(0, Math.floor((record.expiresAt - this.now()) / 1000));
  }

  /** The `auth` object of a login or renew response. */
  authBlock(record: TokenRecord): Record<string, unknown> {
    return {
      client_token: record.id,
      accessor: record.accessor,
      policies: record.policies,
      token_policies: record.policies,
      metadata: record.meta,
      lease_duration: this.secondsLeft(record),
      renewable: record.renewable,
      entity_id: record.entityId ?? '',
      token_type: 'service',
      orphan: true,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  /** The `data` object of `auth/token/lookup-self`. */
  lookupData(record: TokenRecord): Record<string, unknown> {
    return {
      accessor: record.accessor,
      creation_time: Math.floor(record.issuedAt / 1000),
      creation_ttl: record.creationTtl,
      display_name: record.displayName,
      entity_id: record.entityId ?? '',
      expire_time: record.expiresAt === undefined ? null : rfc3339(record.expiresAt),
      explicit_max_ttl: 0,
      id: record.id,
      issue_time: rfc3339(record.issuedAt),
      meta: record.meta,
      namespace_path: record.namespace ? `${record.namespace}/` : '',
      num_uses: 0,
      orphan: true,
      path: record.path,
      policies: record.policies,
      renewable: record.renewable,
      ttl: this.secondsLeft(record),
      type: 'service',
    };
  }
}
