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
  key?: string;
  kid?: string;
  alg?: SigningAlgorithm;
  keysDir: string;
}

export async function resolveSigningKey(choice: KeyChoice, ctx: ProviderContext): Promise<{ key: SigningKey; source: string }> {
  if (choice.key !== undefined) {
    const text = await readSecretRef(ctx, choice.key, 'the JWT signing key');
    const wanted = { ...(choice.kid === undefined ? {} : { kid: choice.kid }), ...(choice.alg === undefined ? {} : { alg: choice.alg }) };
    return { key: await parsePrivateKey(text, choice.key, wanted), source: choice.key.split(':')[0]! };
  }
  const set = await loadKeySet(choice.keysDir);
  const stored = pickKey(set, choice.keysDir, choice.kid);
  const origin = `key "${stored.kid}" of the local key set`;
  if (!stored.privateJwk && !stored.privateRef) {
    throw new ConfigError(`${origin} in ${choice.keysDir} has no private key`, { hint: 'activate another key, or run `claude-key jwt keygen`' });
  }
  const text = stored.privateJwk ? JSON.stringify(stored.privateJwk) : await readSecretRef(ctx, stored.privateRef!, origin);
  return { key: await parsePrivateKey(text, origin, { kid: stored.kid, alg: stored.alg }), source: stored.privateRef ? 'keychain' : 'key-set' };
}
