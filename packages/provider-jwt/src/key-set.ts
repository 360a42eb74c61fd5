// The local key set on disk: several signing keys by kid, one active, in one 0600 file in a 0700 dir.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { JWK } from 'jose';
import { ConfigError, NotFoundError, configDir } from '@claude-key/core';
import type { SigningAlgorithm } from './signing-key.js';

export interface StoredKey {
  kid: string;
  alg: SigningAlgorithm;
  /** ISO time of `keygen`, shown by `claude-key jwt keys`. */
  createdAt: string;
  publicJwk: JWK;
  /** The private key itself, when it lives in this file. */
  privateJwk?: JWK;
  /** Where the private key lives otherwise (`keychain:service/account`), resolved by ctx.secret. */
  privateRef?: string;
}

export interface KeySet {
  /** The kid new tokens are signed with. */
  active?: string;
  keys: StoredKey[];
}

const FILE_NAME = 'jwt-keys.json';

/** `$XDG_CONFIG_HOME/claude-key/keys` (or the platform's equivalent); CLAUDE_KEY_CONFIG_DIR overrides the base. */
export function defaultKeysDir(env: Readonly<Record<string, string | undefined>>): string {
  return join(configDir('claude-key', env), 'keys');
}

export function keySetPath(dir: string): string {
  return join(dir, FILE_NAME);
}

/** The key set in `dir`; an empty set when none was written yet. */
export async function loadKeySet(dir: string): Promise<KeySet> {
  const path = keySetPath(dir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw new ConfigError(`cannot read the JWT key set ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const parsed = JSON.parse(text) as KeySet;
    if (!Array.isArray(parsed.keys)) throw new Error('no keys array');
    return parsed;
  } catch {
    throw new ConfigError(`the JWT key set ${path} is damaged`, { hint: 'restore it from a backup or move it away and run `claude-key jwt keygen`' });
  }
}

/** Writes the set atomically (temp file + rename) with mode 0600 inside a 0700 directory. */
export async function saveKeySet(dir: string, set: KeySet): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone, and the umask can widen a new one.
  await chmod(dir, 0o700);
  const path = keySetPath(dir);
  await writeFileAtomic(path, `${JSON.stringify(set, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** The key to sign with: `kid` when given, else the active one. */
export function pickKey(set: KeySet, dir: string, kid?: string): StoredKey {
  const wanted = kid ?? set.active;
  if (wanted === undefined || set.keys.length === 0) {
    throw new NotFoundError(`no JWT signing key in ${dir}`, { hint: 'run `claude-key jwt keygen` first' });
  }
  const key = set.keys.find((k) => k.kid === wanted);
  if (!key) throw new NotFoundError(`no JWT key with kid "${wanted}" in ${dir}`, { hint: 'see `claude-key jwt keys`' });
  return key;
}

/** The public JWKS of every key still in the set: what a gateway must trust during a rotation. */
export function publicJwks(set: KeySet): { keys: JWK[] } {
  return { keys: set.keys.map((k) => k.publicJwk) };
}
