// Gets a Vault token: a static one (VAULT_TOKEN, ~/.vault-token) or a login cached by the engine and renewed.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AuthError, ConfigError, UsageError, isClaudeKeyError, type CachedValue, type ProviderContext } from '@claude-key/core';
import type { VaultAuth, VaultClient } from './client.js';
import type { ResolvedConnection } from './connection.js';
import type { AuthSettings } from './options.js';

export const LOGIN_CACHE = 'vault-login';
const KUBERNETES_TOKEN_FILE = 'file:/var/run/secrets/kubernetes.io/serviceaccount/token';

/** What the engine stores for a login: the token plus what renewal decisions need. */
interface StoredLogin {
  token: string;
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

function toCached(granted: VaultAuth, now: number): CachedValue {
  const lease = Math.max(0, Number(granted.lease_duration) || 0);
  const expiresAt = lease > 0 ? now + lease * 1000 : undefined;
  const stored: StoredLogin = { token: granted.client_token, renewable: granted.renewable === true, lease, expiresAt };
  return { value: JSON.stringify(stored), expiresAt };
}

function parseStored(value: string): StoredLogin | undefined {
  try {
    const stored = JSON.parse(value) as StoredLogin;
    return typeof stored.token === 'string' && stored.token ? stored : undefined;
  } catch {
    return undefined;
  }
}

/** Vault agent renews at about two thirds of the lease; do the same when a fetch happens then. */
function dueForRenewal(stored: StoredLogin, now: number): boolean {
  return stored.renewable && stored.lease > 0 && stored.expiresAt !== undefined && stored.expiresAt - now < (stored.lease * 1000) / 3;
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
    let fresh = false;
    const value = await this.ctx.cached(LOGIN_CACHE, this.key, async () => {
      fresh = true;
      return this.login();
    });
    let stored = parseStored(value);
    if (!stored) {
      await this.ctx.forget(LOGIN_CACHE, this.key);
      return this.apply();
    }
    this.client.token = stored.token;
    if (!fresh && dueForRenewal(stored, this.ctx.now())) stored = await this.renew();
    this.client.token = stored.token;
    return !fresh;
  }

  /** Drops the cached login and logs in again. */
  async relogin(): Promise<void> {
    await this.ctx.forget(LOGIN_CACHE, this.key);
    await this.apply();
  }

  private async login(): Promise<CachedValue> {
    const granted = await this.client.login(mountOf(this.auth), await loginBody(this.auth, this.ctx));
    return toCached(granted, this.ctx.now());
  }

  private async renew(): Promise<StoredLogin> {
    let renewed: CachedValue;
    try {
      renewed = toCached(await this.client.renewSelf(), this.ctx.now());
      this.ctx.log.debug('renewed the Vault login token');
    } catch (err) {
      // A refused renewal (revoked, past max TTL, not renewable) is not fatal: log in afresh.
      if (!isClaudeKeyError(err) || (err.code !== 'AUTH' && err.code !== 'CONFIG')) throw err;
      this.ctx.log.debug('Vault refused to renew the login token; logging in again');
      renewed = await this.login();
    }
    await this.ctx.forget(LOGIN_CACHE, this.key);
    return parseStored(await this.ctx.cached(LOGIN_CACHE, this.key, async () => renewed))!;
  }
}
