// `claude-key jwt keygen`: adds a new signing key to the local key set and prints the public JWKS.
import * as z from 'zod';
import { defineCommand, UsageError } from '@claude-key/core';
import { defaultKeysDir, loadKeySet, publicJwks, saveKeySet, type StoredKey } from '../key-set.js';
import { keychainRef, type KeychainWriter } from '../keychain.js';
import { keysDirOption } from '../options.js';
import { generateSigningKey, SIGNING_ALGORITHMS } from '../signing-key.js';
import { printJwks } from './print.js';

const keygenOptions = z.object({
  alg: z.enum(SIGNING_ALGORITHMS).default('ES256').describe('Signature algorithm of the new key'),
  kid: z.string().min(1).optional().describe('Key id (default: the RFC 7638 thumbprint of the public key)'),
  activate: z.boolean().default(true).describe('Sign new tokens with this key at once (--no-activate stages it for a rotation)'),
  store: z.enum(['file', 'keychain']).default('file').describe('Where the private key goes: the 0600 key-set file or the OS keychain'),
  keychainService: z.string().min(1).default('claude-key-jwt').describe('Keychain service name for --store keychain (the account is the kid)'),
  keysDir: keysDirOption,
});

export function keygenCommand(keychain: KeychainWriter) {
  return defineCommand({
    summary: 'Create a signing key (added to the key set) and print the public JWKS for the gateway',
    options: keygenOptions,
    examples: ['claude-key jwt keygen', 'claude-key jwt keygen --alg EdDSA --no-activate', 'claude-key jwt keygen --store keychain'],
    async run(options, io) {
      const dir = options.keysDir ?? defaultKeysDir(io.env);
      const set = await loadKeySet(dir);
      if (options.kid !== undefined && set.keys.some((k) => k.kid === options.kid)) {
        throw new UsageError(`a key with kid "${options.kid}" already exists in ${dir}`, { hint: 'pick another --kid, or retire the old key first' });
      }
      const key = await generateSigningKey(options.alg, options.kid);
      const stored: StoredKey = { kid: key.kid, alg: key.alg, createdAt: new Date(io.context.now()).toISOString(), publicJwk: key.publicJwk };
      if (options.store === 'keychain') {
        await keychain.set(options.keychainService, key.kid, JSON.stringify(key.privateJwk));
        stored.privateRef = keychainRef(options.keychainService, key.kid);
      } else {
        stored.privateJwk = key.privateJwk;
      }
      set.keys.push(stored);
      const activated = options.activate || set.active === undefined;
      if (activated) set.active = key.kid;
      const path = await saveKeySet(dir, set);
      printJwks(io, publicJwks(set));
      const where = options.store === 'keychain' ? `the OS keychain (${stored.privateRef})` : path;
      io.stderr(
        activated
          ? `New ${key.alg} key ${key.kid} saved to ${where}; it signs new tokens now.\n`
          : `New ${key.alg} key ${key.kid} saved to ${where}; publish the JWKS, then run: claude-key jwt activate ${key.kid}\n`,
      );
    },
  });
}
