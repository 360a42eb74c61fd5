// Turns what Vault returned into the credential: the chosen field, its expiry and non-secret facts.
import { AuthError, ConfigError, NotFoundError, UsageError, type Credential } from '@claude-key/core';
import type { VaultOptions } from './options.js';
import type { SecretRead } from './secret.js';

/** Field names only, never values: they tell the user what to pass to --field. */
function fieldList(data: Record<string, unknown>): string {
  const names = Object.keys(data).sort();
  return names.length ? names.join(', ') : '(none)';
}

function pickField(data: Record<string, unknown>, options: VaultOptions): { field: string; token: string } {
  let field = options.field;
  if (field === undefined) {
    const names = Object.keys(data);
    if (names.length !== 1) {
      if (names.length === 0) throw new NotFoundError(`the secret at ${options.path} has no fields`);
      throw new UsageError(`the secret at ${options.path} has fields ${fieldList(data)}; pick one with --field`);
    }
    field = names[0]!;
  }
  if (!(field in data)) throw new NotFoundError(`field "${field}" not found at ${options.path}; its fields are: ${fieldList(data)}`);
  const value = data[field];
  if (typeof value === 'object' && value !== null) throw new ConfigError(`field "${field}" at ${options.path} holds an object, not a string`);
  const token = String(value ?? '').trim();
  if (!token) throw new ConfigError(`field "${field}" at ${options.path} is empty`);
  if (/[\r\n]/.test(token)) throw new ConfigError(`field "${field}" at ${options.path} spans several lines; a helper must print one line`);
  return { field, token };
}

/** RFC 3339 text, or epoch seconds (or milliseconds, when the number is that large). */
function parseExpiry(value: unknown): number | undefined {
  const asNumber = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : undefined;
  if (asNumber !== undefined) return asNumber > 1e12 ? asNumber : asNumber * 1000;
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function toCredential(read: SecretRead, options: VaultOptions, now: number): Credential {
  const { field, token } = pickField(read.data, options);
  const meta: Record<string, string | number | boolean> = { field, lease: read.leaseId !== '' };
  if (read.kvVersion) meta.kvVersion = read.kvVersion;
  if (read.version !== undefined) meta.version = read.version;

  // KV v1 sends a lease_duration too, but with no lease_id it is only a refresh hint.
  if (read.leaseId !== '') {
    meta.renewable = read.renewable;
    meta.leaseSeconds = read.leaseDuration;
    return read.leaseDuration > 0 ? { token, expiresAt: now + read.leaseDuration * 1000, meta } : { token, meta };
  }
  if (field !== options.expiresField && options.expiresField in read.data) {
    const expiresAt = parseExpiry(read.data[options.expiresField]);
    if (expiresAt === undefined) {
      throw new ConfigError(`field "${options.expiresField}" at ${options.path} is not a time; use RFC 3339 or epoch seconds`);
    }
    if (expiresAt <= now) {
      throw new AuthError(`the secret at ${options.path} expired at ${new Date(expiresAt).toISOString()} (its ${options.expiresField} field)`, {
        hint: 'rotate it in Vault',
      });
    }
    return { token, expiresAt, meta };
  }
  return { token, meta };
}
