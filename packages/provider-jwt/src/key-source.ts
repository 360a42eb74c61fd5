// Finds the signing key for a mint: a --key reference, a kid in the local key set, or its active key.
import { ConfigError, isClaudeKeyError, NotFoundError, type ProviderContext } from '@claude-key/core';
import { loadKeySet, pickKey } from './key-set.js';
import { parsePrivateKey, type SigningAlgorithm, type SigningKey } from './signing-key.js';

/** Resolves a secret reference; failures name the reference, never the value. */
export async function readSecretRef(ctx: ProviderContext, ref: string, what: string): Promise<string> {
  try {
    return await ctx.secret(ref);
  } catch (err) {
    if (isClaudeKeyError(err)) throw err;
    throw new NotFoundError(`cannot read ${what} from ${ref}`, { hint: 'check that the reference points at an existing secret' });
  }
}

export interface KeyChoice {
  /** `file:/path`, `env:NAME`, `keychain:service/account`; unset means the local key set. */
  key?: string | undefined;
  kid?: string | undefined;
  alg?: SigningAlgorithm | undefined;
  keysDir: string;
}

export interface ResolvedKey {
  key: SigningKey;
  /** `file`, `env`, `keychain` or `key-set`: where the private key came from. */
  source: string;
}

/** The key a `--key` reference points at; `kid`/`alg` name and check it. */
export async function keyFromRef(ref: string, wanted: { kid?: string | undefined; alg?: SigningAlgorithm | undefined }, ctx: ProviderContext): Promise<ResolvedKey> {
  const text = await readSecretRef(ctx, ref, 'the JWT signing key');
  const checks = { ...(wanted.kid === undefined ? {} : { kid: wanted.kid }), ...(wanted.alg === undefined ? {} : { alg: wanted.alg }) };
  return { key: await parsePrivateKey(text, ref, checks), source: ref.split(':')[0]! };
}

/** Key `kid` of the local key set, or its active key. */
export async function keyFromSet(keysDir: string, kid: string | undefined, ctx: ProviderContext): Promise<ResolvedKey> {
  const stored = pickKey(await loadKeySet(keysDir), keysDir, kid);
  const origin = `key "${stored.kid}" of the local key set`;
  if (!stored.privateJwk && !stored.privateRef) {
    throw new ConfigError(`${origin} in ${keysDir} has no private key`, { hint: 'activate another key, or run `claude-key jwt keygen`' });
  }
  const text = stored.privateJwk ? JSON.stringify(stored.privateJwk) : await readSecretRef(ctx, stored.privateRef!, origin);
  return { key: await parsePrivateKey(text, origin, { kid: stored.kid, alg: stored.alg }), source: stored.privateRef ? 'keychain' : 'key-set' };
}

export function resolveSigningKey(choice: KeyChoice, ctx: ProviderContext): Promise<ResolvedKey> {
  return choice.key !== undefined ? keyFromRef(choice.key, choice, ctx) : keyFromSet(choice.keysDir, choice.kid, ctx);
}
