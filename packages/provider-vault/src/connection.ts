// Resolves where Vault is and how to trust it, from options first and the vault CLI's env vars second.
import { join } from 'node:path';
import { ConfigError, type ProviderContext } from '@claude-key/core';
import { VaultClient, type VaultTls } from './client.js';
import type { ConnectionSettings } from './options.js';

/** The vault CLI's default when VAULT_ADDR is unset. */
export const DEFAULT_ADDRESS = 'https://127.0.0.1:8200';

/** Go's strconv.ParseBool, which the vault CLI uses for VAULT_SKIP_VERIFY. */
function parseBool(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new ConfigError(`${name}="${value}" is not a boolean; use true or false`);
}

async function readPem(file: string, what: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/** Every certificate file in a CA directory (like VAULT_CAPATH): files holding a PEM certificate. */
async function readCaDir(dir: string): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new ConfigError(`cannot read CA directory ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  const pems = await Promise.all(names.sort().map((name) => readFile(join(dir, name), 'utf8').catch(() => '')));
  const certs = pems.filter((pem) => pem.includes('-----BEGIN CERTIFICATE-----'));
  if (certs.length === 0) throw new ConfigError(`CA directory ${dir} holds no PEM certificates`);
  return certs;
}

export interface ResolvedConnection {
  address: string;
  namespace: string | undefined;
  caCert: string | undefined;
  caPath: string | undefined;
  skipVerify: boolean;
  tlsServerName: string | undefined;
  /** True when neither --address nor VAULT_ADDR was set. */
  defaultAddress: boolean;
  /** Origins (scheme://host:port) a standby's 307 may send us to, besides the address itself. */
  redirectOrigins: string[];
}

/** Redirect targets the operator named, as origins; a different scheme from the address is refused here. */
function redirectOrigins(address: string, allowed: readonly string[] | undefined): string[] {
  const scheme = new URL(address).protocol;
  return (allowed ?? []).map((entry) => {
    const url = new URL(entry);
    if (url.protocol !== scheme) {
      throw new ConfigError(`--allow-redirect-to ${url.origin} uses ${url.protocol.slice(0, -1)} but the Vault address uses ${scheme.slice(0, -1)}; name the active node with the same scheme`);
    }
    return url.origin;
  });
}

/** The effective settings: explicit options win over VAULT_* variables, as in the vault CLI. */
export function resolveConnection(opts: ConnectionSettings, env: ProviderContext['env']): ResolvedConnection {
  const address = (opts.address ?? env.VAULT_ADDR ?? DEFAULT_ADDRESS).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(address)) throw new ConfigError(`Vault address "${address}" must start with http:// or https://`);
  return {
    address,
    namespace: opts.namespace ?? (env.VAULT_NAMESPACE || undefined),
    caCert: opts.caCert ?? (env.VAULT_CACERT || undefined),
    caPath: opts.caPath ?? (env.VAULT_CAPATH || undefined),
    skipVerify: opts.skipVerify ?? parseBool('VAULT_SKIP_VERIFY', env.VAULT_SKIP_VERIFY) ?? false,
    tlsServerName: opts.tlsServerName ?? (env.VAULT_TLS_SERVER_NAME || undefined),
    redirectOrigins: redirectOrigins(address, opts.allowRedirectTo),
    defaultAddress: !opts.address && !env.VAULT_ADDR,
  };
}

async function tlsSettings(conn: ResolvedConnection): Promise<VaultTls | undefined> {
  if (!conn.address.startsWith('https://')) return undefined;
  if (!conn.caCert && !conn.caPath && !conn.skipVerify && !conn.tlsServerName) return undefined;
  // Like the vault CLI, a CA file takes precedence over a CA directory.
  const ca = conn.caCert ? [await readPem(conn.caCert, 'CA certificate')] : conn.caPath ? await readCaDir(conn.caPath) : undefined;
  return { ca, rejectUnauthorized: !conn.skipVerify, servername: conn.tlsServerName };
}

/** A client for the resolved connection, bound to the fetch's deadline signal. */
export async function connect(conn: ResolvedConnection, signal: AbortSignal): Promise<VaultClient> {
  return new VaultClient({ address: conn.address, namespace: conn.namespace, tls: await tlsSettings(conn), redirectOrigins: conn.redirectOrigins, defaultAddress: conn.defaultAddress, signal });
}
