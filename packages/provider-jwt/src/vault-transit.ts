// Vault's transit engine as a JWT signer: `<mount>/sign/<key>` with JWS marshaling, public keys from `<mount>/keys/<key>`.
import { createPublicKey } from 'node:crypto';
import { base64url, type JWK } from 'jose';
import { ConfigError, isClaudeKeyError, NotFoundError, UnreachableError, type ProviderContext } from '@claude-key/core';
import { connect, resolveConnection, VaultLogin, type TransitKeyInfo, type VaultClient } from '@claude-key/provider-vault';
import type { MintOptions } from './options.js';
import type { Signer } from './signer.js';
import type { SigningAlgorithm } from './signing-key.js';

type VaultTransitOptions = Pick<MintOptions, Extract<keyof MintOptions, `vault${string}`>>;

/** Vault key types that map onto a JWS algorithm we sign with. */
const ALG_BY_TYPE: Record<string, SigningAlgorithm> = {
  'ecdsa-p256': 'ES256',
  'rsa-2048': 'RS256',
  'rsa-3072': 'RS256',
  'rsa-4096': 'RS256',
  ed25519: 'EdDSA',
};

interface Session {
  client: VaultClient;
  mount: string;
  key: string;
  /** Identifies this Vault key in the engine's cache (no secrets). */
  cacheKey: (string | undefined)[];
}

/**
 * Runs `use` with a client logged in the way the vault provider logs in (token, AppRole, JWT,
 * Kubernetes; the login is cached by the engine). A cached login Vault has since revoked gets
 * one fresh login and one retry.
 */
async function withVault<T>(options: VaultTransitOptions, ctx: ProviderContext, use: (session: Session) => Promise<T>): Promise<T> {
  const conn = resolveConnection(
    {
      address: options.vaultAddr,
      namespace: options.vaultNamespace,
      caCert: options.vaultCaCert,
      caPath: options.vaultCaPath,
      skipVerify: options.vaultSkipVerify,
      tlsServerName: options.vaultTlsServerName,
    },
    ctx.env,
  );
  const client = await connect(conn, ctx.signal);
  const mount = options.vaultMount.replace(/^\/+|\/+$/g, '');
  const key = options.vaultTransitKey ?? '';
  const session = { client, mount, key, cacheKey: [conn.address, conn.namespace, mount, key] };
  try {
    const login = new VaultLogin(client, conn, {
      auth: options.vaultAuth,
      authMount: options.vaultAuthMount,
      role: options.vaultRole,
      token: options.vaultToken,
      roleId: options.vaultRoleId,
      secretId: options.vaultSecretId,
      jwt: options.vaultJwt,
    }, ctx);
    const loginWasCached = await login.apply();
    try {
      return await use(session);
    } catch (err) {
      if (!loginWasCached || !isClaudeKeyError(err) || err.code !== 'AUTH') throw err;
      ctx.log.debug('Vault refused the cached login token; logging in again');
      await login.relogin();
      return await use(session);
    }
  } finally {
    await client.close();
  }
}

async function readKeyInfo({ client, mount, key }: Session): Promise<TransitKeyInfo> {
  try {
    return await client.transitKey(key, mount);
  } catch (err) {
    // Vault answers a missing key with 404 and no text; some versions with 400 "... not found".
    if (isClaudeKeyError(err) && (err.code === 'NOT_FOUND' || /not found/i.test(err.message))) {
      throw new NotFoundError(`Vault has no transit key "${key}" at ${mount}/`, { hint: `create it: vault write -f ${mount}/keys/${key} type=ecdsa-p256` });
    }
    throw err;
  }
}

function algorithmOfType(session: Session, type: string): SigningAlgorithm {
  const alg = ALG_BY_TYPE[type];
  if (!alg) {
    throw new ConfigError(`Vault transit key "${session.key}" has type ${type || 'unknown'}, which cannot sign JWTs here`, {
      hint: 'use type ecdsa-p256, ed25519 or rsa-2048',
    });
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

/** Every version Vault still holds for the key, newest first (older versions keep verifying after a rotate). */
export function vaultJwks(options: VaultTransitOptions, ctx: ProviderContext): Promise<{ keys: JWK[] }> {
  return withVault(options, ctx, async (session) => {
    const info = await readKeyInfo(session);
    const alg = algorithmOfType(session, info.type);
    const versions = Object.keys(info.publicKeys).map(Number).sort((a, b) => b - a);
    return { keys: versions.map((v) => publicJwkOf(info.publicKeys[v]!, alg, vaultKid(session.key, v))) };
  });
}

function transitSigner(session: Session, alg: SigningAlgorithm, version: number): Signer {
  return {
    kid: vaultKid(session.key, version),
    alg,
    source: 'vault-transit',
    async sign(header, payload) {
      const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
      const signed = await session.client.transitSign(session.key, Buffer.from(signingInput), {
        mount: session.mount,
        keyVersion: version,
        // JWS marshaling: raw r||s for ECDSA, base64url without padding, exactly a JWS signature.
        marshalingAlgorithm: 'jws',
        hashAlgorithm: 'sha2-256',
        ...(alg === 'RS256' ? { signatureAlgorithm: 'pkcs1v15' as const } : {}),
      });
      if (signed.keyVersion !== version || !/^[A-Za-z0-9_-]+$/.test(signed.signature)) {
        throw new UnreachableError(`Vault answered ${session.mount}/sign/${session.key} without a JWS signature for version ${version}`);
      }
      return `${signingInput}.${signed.signature}`;
    },
  };
}

/** Runs `use` with a signer whose private key stays in Vault: only the JWS signing input travels. */
export function withVaultSigner<T>(options: VaultTransitOptions, ctx: ProviderContext, use: (signer: Signer) => Promise<T>): Promise<T> {
  return withVault(options, ctx, async (session) => {
    // The key type and latest version change only on rotation; reading them every few minutes is enough.
    const cached = await ctx.cached(
      'jwt-vault-transit-key',
      session.cacheKey,
      async () => {
        const info = await readKeyInfo(session);
        return { value: JSON.stringify({ type: info.type, version: info.latestVersion }), expiresAt: ctx.now() + 5 * 60_000 };
      },
      { minValidityMs: 0 },
    );
    const { type, version } = JSON.parse(cached) as { type: string; version: number };
    return use(transitSigner(session, algorithmOfType(session, type), version));
  });
}
