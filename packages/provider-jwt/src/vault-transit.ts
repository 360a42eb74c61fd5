// Vault's transit engine as a JWT signer: `<mount>/sign/<key>` with JWS marshaling, public keys from `<mount>/keys/<key>`.
import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import { base64url } from 'jose';
import {
  AuthError,
  ConfigError,
  isAbortError,
  isNetworkError,
  NotFoundError,
  UnreachableError,
  UsageError,
  type ProviderContext,
} from '@claude-key/core';
import { readSecretRef } from './key-source.js';
import type { Signer } from './signer.js';
import type { SigningAlgorithm } from './signing-key.js';

export interface VaultTransitOptions {
  vaultTransitKey?: string;
  vaultMount: string;
  vaultAddr?: string;
  vaultToken: string;
  vaultNamespace?: string;
}

interface Target {
  addr: string;
  mount: string;
  key: string;
  namespace?: string;
}

interface TransitKeyInfo {
  type: string;
  latest_version: number;
  keys: Record<string, { public_key?: string }>;
}

/** Vault key types that map onto a JWS algorithm we sign with. */
const ALG_BY_TYPE: Record<string, SigningAlgorithm> = {
  'ecdsa-p256': 'ES256',
  'rsa-2048': 'RS256',
  'rsa-3072': 'RS256',
  'rsa-4096': 'RS256',
  ed25519: 'EdDSA',
};

function targetOf(options: VaultTransitOptions, ctx: ProviderContext): Target {
  const addr = options.vaultAddr ?? ctx.env.VAULT_ADDR;
  if (!addr) throw new UsageError('no Vault address', { hint: 'set VAULT_ADDR or pass --vault-addr' });
  const namespace = options.vaultNamespace ?? ctx.env.VAULT_NAMESPACE;
  return {
    addr: addr.replace(/\/+$/, ''),
    mount: options.vaultMount.replace(/^\/+|\/+$/g, ''),
    key: options.vaultTransitKey ?? '',
    ...(namespace ? { namespace } : {}),
  };
}

/** Vault's `{"errors":[...]}` text: fixed server strings, no request data, so safe to show (shortened). */
function vaultReason(body: unknown): string {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const first = Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0] : '';
  return first.split('\n')[0]!.slice(0, 160);
}

async function call(target: Target, token: string, path: string, ctx: ProviderContext, body?: unknown): Promise<unknown> {
  const url = `${target.addr}/v1/${target.mount}/${path}`;
  const where = `${target.mount}/${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        'X-Vault-Token': token,
        'X-Vault-Request': 'true',
        ...(target.namespace ? { 'X-Vault-Namespace': target.namespace } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: ctx.signal,
    });
  } catch (err) {
    if (isAbortError(err)) throw err;
    if (isNetworkError(err)) throw new UnreachableError(`cannot reach Vault at ${target.addr}`, { hint: 'check VAULT_ADDR and the network', cause: err });
    throw err;
  }
  const parsed: unknown = await res.json().catch(() => undefined);
  if (res.ok) return parsed;
  const reason = vaultReason(parsed);
  const suffix = reason ? `: ${reason}` : '';
  if (res.status === 401 || res.status === 403) {
    throw new AuthError(`Vault refused ${where} (HTTP ${res.status})${suffix}`, { hint: `check VAULT_TOKEN and that its policy allows ${body === undefined ? 'read' : 'update'} on ${where}` });
  }
  if (res.status === 404 || /not found/i.test(reason)) {
    throw new NotFoundError(`Vault has no transit key "${target.key}" at ${target.mount}/`, { hint: `create it: vault write -f ${target.mount}/keys/${target.key} type=ecdsa-p256` });
  }
  if (res.status === 503) throw new UnreachableError(`Vault at ${target.addr} is sealed or not ready (HTTP 503)${suffix}`);
  if (res.status >= 500) throw new UnreachableError(`Vault answered HTTP ${res.status} for ${where}${suffix}`);
  throw new ConfigError(`Vault rejected ${where} (HTTP ${res.status})${suffix}`);
}

async function vaultToken(options: VaultTransitOptions, ctx: ProviderContext): Promise<string> {
  return readSecretRef(ctx, options.vaultToken, 'the Vault token');
}

async function readKeyInfo(target: Target, token: string, ctx: ProviderContext): Promise<TransitKeyInfo> {
  const body = (await call(target, token, `keys/${encodeURIComponent(target.key)}`, ctx)) as { data?: TransitKeyInfo } | undefined;
  const info = body?.data;
  if (!info || typeof info.type !== 'string' || !Number.isInteger(info.latest_version) || typeof info.keys !== 'object') {
    throw new UnreachableError(`Vault answered ${target.mount}/keys/${target.key} without key data`);
  }
  return info;
}

function algorithmOfType(target: Target, type: string): SigningAlgorithm {
  const alg = ALG_BY_TYPE[type];
  if (!alg) {
    throw new ConfigError(`Vault transit key "${target.key}" has type ${type}, which cannot sign JWTs here`, { hint: 'use type ecdsa-p256, ed25519 or rsa-2048' });
  }
  return alg;
}

/** The kid of one Vault key version: rotating the key in Vault yields a new kid. */
export function vaultKid(keyName: string, version: number): string {
  return `${keyName}-v${version}`;
}

function publicJwkOf(publicKey: string, alg: SigningAlgorithm, kid: string): JWK {
  // Vault gives Ed25519 public keys as base64 of the raw 32 bytes, the others as PEM.
  const material: JWK = alg === 'EdDSA'
    ? { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'base64').toString('base64url') }
    : (createPublicKey(publicKey).export({ format: 'jwk' }) as JWK);
  return { ...material, kid, alg, use: 'sig' };
}

/** Every version Vault still holds for the key, as a JWKS (older versions keep verifying after a rotate). */
export async function vaultJwks(options: VaultTransitOptions, ctx: ProviderContext): Promise<{ keys: JWK[] }> {
  const target = targetOf(options, ctx);
  const info = await readKeyInfo(target, await vaultToken(options, ctx), ctx);
  const alg = algorithmOfType(target, info.type);
  const keys = Object.entries(info.keys)
    .filter(([, v]) => typeof v.public_key === 'string' && v.public_key.length > 0)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([version, v]) => publicJwkOf(v.public_key!, alg, vaultKid(target.key, Number(version))));
  return { keys };
}

const SIGNATURE = /^vault:v(\d+):([A-Za-z0-9_-]+)$/;

/** A signer whose private key stays in Vault: only the JWS signing input travels. */
export async function vaultSigner(options: VaultTransitOptions, ctx: ProviderContext): Promise<Signer> {
  const target = targetOf(options, ctx);
  const token = await vaultToken(options, ctx);
  // The key type and latest version change only on rotation; reading them once per few minutes is enough.
  const cachedInfo = await ctx.cached(
    'jwt-vault-transit-key',
    [target.addr, target.namespace ?? '', target.mount, target.key],
    async () => {
      const info = await readKeyInfo(target, token, ctx);
      return { value: JSON.stringify({ type: info.type, version: info.latest_version }), expiresAt: ctx.now() + 5 * 60_000 };
    },
    { minValidityMs: 0 },
  );
  const { type, version } = JSON.parse(cachedInfo) as { type: string; version: number };
  const alg = algorithmOfType(target, type);
  const kid = vaultKid(target.key, version);
  return {
    kid,
    alg,
    source: 'vault-transit',
    async sign(header, payload) {
      const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
      const body = (await call(target, token, `sign/${encodeURIComponent(target.key)}`, ctx, {
        input: Buffer.from(signingInput).toString('base64'),
        key_version: version,
        marshaling_algorithm: 'jws',
        ...(alg === 'EdDSA' ? {} : { hash_algorithm: 'sha2-256' }),
        ...(alg === 'RS256' ? { signature_algorithm: 'pkcs1v15' } : {}),
      })) as { data?: { signature?: unknown } } | undefined;
      const match = SIGNATURE.exec(String(body?.data?.signature ?? ''));
      if (!match || Number(match[1]) !== version) {
        throw new UnreachableError(`Vault answered ${target.mount}/sign/${target.key} without a JWS signature for version ${version}`);
      }
      return `${signingInput}.${match[2]}`;
    },
  };
}
