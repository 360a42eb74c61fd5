// `claude-key jwt keys | activate | retire`: list the key set, switch the signing key, drop an old key.
import * as z from 'zod';
import { defineCommand, UsageError, type CommandIO } from '@claude-key/core';
import { defaultKeysDir, loadKeySet, pickKey, saveKeySet, type KeySet, type StoredKey } from '../key-set.js';
import { parseKeychainRef, type KeychainWriter } from '../keychain.js';
import { keysDirOption } from '../options.js';

const kidOptions = z.object({
  kid: z.string().min(1).describe('Key id as shown by `claude-key jwt keys`'),
  keysDir: keysDirOption,
});

/** Loads the set, lets `change` edit the key named by `kid`, and saves the set atomically. */
async function editKey(options: { kid: string; keysDir?: string | undefined }, io: CommandIO, change: (set: KeySet, key: StoredKey) => void): Promise<StoredKey> {
  const dir = options.keysDir ?? defaultKeysDir(io.env);
  const set = await loadKeySet(dir);
  const key = pickKey(set, dir, options.kid);
  change(set, key);
  await saveKeySet(dir, set);
  return key;
}

export const keysCommand = defineCommand({
  summary: 'List the keys of the local key set (kid, algorithm, created, store, active)',
  options: z.object({ keysDir: keysDirOption }),
  async run(options, io) {
    const dir = options.keysDir ?? defaultKeysDir(io.env);
    const set = await loadKeySet(dir);
    if (set.keys.length === 0) {
      io.stderr(`No keys in ${dir}; run: claude-key jwt keygen\n`);
      return;
    }
    for (const key of set.keys) {
      const store = key.privateRef ?? 'file';
      io.stdout(`${key.kid}\t${key.alg}\t${key.createdAt}\t${store}${key.kid === set.active ? '\tactive' : ''}\n`);
    }
  },
});

export const activateCommand = defineCommand({
  summary: 'Sign new tokens with another key of the set (after the gateway trusts it)',
  options: kidOptions,
  positional: 'kid',
  examples: ['claude-key jwt activate 3Fq0...'],
  async run(options, io) {
    await editKey(options, io, (set, key) => {
      set.active = key.kid;
    });
    io.stderr(`Key ${options.kid} signs new tokens now.\n`);
  },
});

export function retireCommand(keychain: KeychainWriter) {
  return defineCommand({
    summary: 'Remove an old key from the set; tokens it signed stop verifying once the gateway reloads the JWKS',
    options: kidOptions,
    positional: 'kid',
    examples: ['claude-key jwt retire 3Fq0...'],
    async run(options, io) {
      const key = await editKey(options, io, (set, picked) => {
        if (picked.kid === set.active) {
          throw new UsageError(`key ${picked.kid} is the active key`, { hint: 'activate another key first (claude-key jwt activate KID)' });
        }
        set.keys = set.keys.filter((k) => k.kid !== picked.kid);
      });
      const inKeychain = key.privateRef ? await parseKeychainRef(key.privateRef) : undefined;
      if (inKeychain) await keychain.delete(inKeychain.service, inKeychain.account);
      io.stderr(`Key ${key.kid} retired; publish the new JWKS (claude-key jwt jwks) to the gateway.\n`);
    },
  });
}
