// Gets a Vault token: a static one (VAULT_TOKEN, ~/.vault-token) or a login cached by the engine and renewed.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AuthError, ConfigError, UsageError, isClaudeKeyError, type ProviderContext } from '@claude-key/core';
import type { VaultAuth, VaultClient } from './client.js';
import type { ResolvedConnection } from './connection.js';
import type { AuthSettings } from './options.js';

export const LOGIN_CACHE = 'vault-login';
/** Non-secret facts about the cached login, kept apart so the token alone is the cached (and redacted) value. */
export const LEASE_CACHE = 'vault-login-lease';
const KUBERNETES_TOKEN_FILE = 'file:/var/run/secrets/kubernetes.io/serviceaccount/token';

/** What renewal decisions need to know about a login token. */
interface LoginLease {
  renewable: boolean;
  /** Granted lease in seconds (0 = no expiry). */
  lease: number;
  expiresAt?: number;
}

async function resolveRef(ctx: ProviderContext, ref: string, option: string): Promise<string> {
  try {
    const value = (await ctx.secret(ref)).trim();
    if (!value) throw new ConfigError(`${ref} (--${option}) is empty`);
    return value;
  } catch (err) {
    if (isClaudeKeyError(err)) throw err;
    throw new ConfigError(`cannot resolve ${ref} for --${option}`, { cause: err });
  }
}

async function staticToken(auth: AuthSettings, ctx: ProviderContext): Promise<string> {
  if (auth.token) return resolveRef(ctx, auth.token, 'token');
  if (ctx.env.VAULT_TOKEN) return ctx.env.VAULT_TOKEN.trim();
  const file = join(ctx.env.HOME ?? homedir(), '.vault-token');
  const { readFile } = await import('node:fs/promises');
  const fromFile = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (fromFile) return fromFile;
  throw new AuthError('no Vault token found in VAULT_TOKEN or ~/.vault-token', {
    hint: 'run `vault login`, set VAULT_TOKEN, or pick --auth approle, jwt or kubernetes',
  });
}

function mountOf(auth: AuthSettings): string {
  return (auth.authMount ?? auth.auth).replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
}

function requireRole(auth: AuthSettings): string {
  if (!auth.role) throw new UsageError(`--role is required with --auth ${auth.auth}`);
  return auth.role;
}

async function loginBody(auth: AuthSettings, ctx: ProviderContext): Promise<Record<string, string>> {
  if (auth.auth === 'approle') {
    return { role_id: await resolveRef(ctx, auth.roleId, 'role-id'), secret_id: await resolveRef(ctx, auth.secretId, 'secret-id') };
  }
  if (auth.auth === 'kubernetes') {
    return { role: requireRole(auth), jwt: await resolveRef(ctx, auth.jwt ?? KUBERNETES_TOKEN_FILE, 'jwt') };
  }
  const role = requireRole(auth);
  if (!auth.jwt) throw new UsageError('--jwt is required with --auth jwt (e.g. file:/path, env:NAME or profile:NAME)');
  return { role, jwt: await resolveRef(ctx, auth.jwt, 'jwt') };
}

function leaseOf(granted: VaultAuth, now: number): LoginLease {
  const lease = Math.max(0, Number(granted.lease_duration) || 0);
  return { renewable: granted.renewable === true, lease, expiresAt: lease > 0 ? now + lease * 1000 : undefined };
}

function parseLease(value: string): LoginLease {
  try {
    const parsed = JSON.parse(value) as Partial<LoginLease>;
    return { renewable: parsed.renewable === true, lease: Number(parsed.lease) || 0, expiresAt: parsed.expiresAt };
  } catch {
    return { renewable: false, lease: 0 };
  }
}

/** Vault agent renews at about two thirds of the lease; do the same when a fetch happens then. */
function dueForRenewal(lease: LoginLease, now: number): boolean {
  return lease.renewable && lease.lease > 0 && lease.expiresAt !== undefined && lease.expiresAt - now < (lease.lease * 1000) / 3;
}

/** Logs in (or reuses the engine-cached login) and sets the client's token. */
export class VaultLogin {
  private readonly key: Record<string, string | undefined>;

  constructor(
    private readonly client: VaultClient,
    conn: ResolvedConnection,
    private readonly auth: AuthSettings,
    private readonly ctx: ProviderContext,
  ) {
    // References, never the secrets they point at, identify a login.
    this.key = {
      address: conn.address, namespace: conn.namespace, method: auth.auth, mount: mountOf(auth), role: auth.role,
      roleId: auth.auth === 'approle' ? auth.roleId : undefined, jwt: auth.jwt,
    };
  }

  /** True when the token came from the cache (so a 403 may mean it was revoked meanwhile). */
  async apply(): Promise<boolean> {
    if (this.auth.auth === 'token') {
      this.client.token = await staticToken(this.auth, this.ctx);
      return false;
    }
    let granted: VaultAuth | undefined;
    const token = await this.ctx.cached(LOGIN_CACHE, this.key, async () => {
      granted = await this.login();
      return { value: granted.client_token, expiresAt: leaseOf(granted, this.ctx.now()).expiresAt };
    });
    this.client.token = token;
    if (granted) {
      const lease = leaseOf(granted, this.ctx.now());
      await this.store(LEASE_CACHE, JSON.stringify(lease), lease.expiresAt);
      return false;
    }
    // A cached token without lease facts (stored by an older version) is simply not renewed.
    const lease = parseLease(await this.ctx.cached(LEASE_CACHE, this.key, async () => ({ value: '{}' })));
    if (dueForRenewal(lease, this.ctx.now())) await this.renew();
    return true;
  }

  /** Drops the cached login and logs in again. */
  async relogin(): Promise<void> {
    await this.ctx.forget(LOGIN_CACHE, this.key);
    await this.apply();
  }

  private async login(): Promise<VaultAuth> {
    return this.client.login(mountOf(this.auth), await loginBody(this.auth, this.ctx));
  }

  /** Replaces one cache entry (the engine's cache only loads on a miss, so forget first). */
  private async store(name: string, value: string, expiresAt: number | undefined): Promise<void> {
    await this.ctx.forget(name, this.key);
    await this.ctx.cached(name, this.key, async () => ({ value, expiresAt }));
  }

  private async renew(): Promise<void> {
    let granted: VaultAuth;
    try {
      // renew-self answers with the same token; its auth block carries the new lease.
      granted = await this.client.renewSelf();
      this.ctx.log.debug('renewed the Vault login token');
    } catch (err) {
      // A refused renewal (revoked, past max TTL, not renewable) is not fatal: log in afresh.
      if (!isClaudeKeyError(err) || (err.code !== 'AUTH' && err.code !== 'CONFIG')) throw err;
      this.ctx.log.debug('Vault refused to renew the login token; logging in again');
      granted = await this.login();
    }
    this.client.token = granted.client_token;
    const lease = leaseOf(granted, this.ctx.now());
    await this.store(LOGIN_CACHE, granted.client_token, lease.expiresAt);
    await this.store(LEASE_CACHE, JSON.stringify(lease), lease.expiresAt);
  }
}
