// Refresh tokens in the OS keychain through provider-keychain's one wrapper, loaded only when a session is touched.
import { ClaudeKeyError, isClaudeKeyError } from '@claude-key/core';
import { sessionLabel, type SessionStore } from './session-store.js';

export const KEYCHAIN_SERVICE = 'claude-key-oidc';

/** The keychain operations this store uses (provider-keychain's); tests hand in a stand-in. */
export interface KeychainEntries {
  readEntry(name: { service: string; account: string }): Promise<string | undefined>;
  writeEntry(name: { service: string; account: string }, value: string): Promise<void>;
  deleteEntry(name: { service: string; account: string }): Promise<boolean>;
}

// Loaded on first use so a file-stored session never loads the native keyring binding.
export const loadKeychainEntries = async (): Promise<KeychainEntries> => import('@claude-key/provider-keychain');

export function createKeychainStore(load: () => Promise<KeychainEntries> = loadKeychainEntries): SessionStore {
  const call = async <T>(op: (entries: KeychainEntries) => Promise<T>): Promise<T> => {
    try {
      return await op(await load());
    } catch (err) {
      // provider-keychain's line says what is wrong with the keychain; the way out here is --storage file.
      if (!isClaudeKeyError(err)) throw err;
      throw new ClaudeKeyError(err.code, err.exitCode, err.message, { hint: 'unlock the keychain, or use --storage file', cause: err });
    }
  };
  const name = (key: Parameters<typeof sessionLabel>[0]) => ({ service: KEYCHAIN_SERVICE, account: sessionLabel(key) });
  return {
    load: (key) => call((k) => k.readEntry(name(key))),
    async save(key, refreshToken) {
      await call((k) => k.writeEntry(name(key), refreshToken));
      return `the OS keychain (service ${KEYCHAIN_SERVICE}, account ${sessionLabel(key)})`;
    },
    remove: (key) => call((k) => k.deleteEntry(name(key))),
  };
}
