// Picks the session store for --storage: keychain, file, or auto (keychain first, file when it is missing).
import { isAbortError, type ProviderLogger } from '@claude-key/core';
import { createFileStore, defaultSessionDir } from './file-store.js';
import { createKeychainStore, loadKeychainEntries, type KeychainEntries } from './keychain-store.js';
import type { SessionStore } from './session-store.js';

export type StorageKind = 'auto' | 'keychain' | 'file';

export interface StoreDeps {
  env: Readonly<Record<string, string | undefined>>;
  log: ProviderLogger;
  loadKeychain?: () => Promise<KeychainEntries>;
}

export function openSessionStore(kind: StorageKind, deps: StoreDeps): SessionStore {
  const file = createFileStore(defaultSessionDir(deps.env));
  if (kind === 'file') return file;
  const keychain = createKeychainStore(deps.loadKeychain ?? loadKeychainEntries);
  if (kind === 'keychain') return keychain;
  return fallbackStore(keychain, file, deps.log);
}

/**
 * `auto`: the keychain when it answers, else the file, with one debug line saying why. A read
 * also looks in the file, so a login made while the keychain was away is still found.
 */
function fallbackStore(keychain: SessionStore, file: SessionStore, log: ProviderLogger): SessionStore {
  let keychainDown = false;
  const tryKeychain = async <T>(op: () => Promise<T>): Promise<T | undefined> => {
    if (keychainDown) return undefined;
    try {
      return await op();
    } catch (err) {
      if (isAbortError(err)) throw err;
      keychainDown = true;
      log.debug(`${(err as Error).message}; keeping the OIDC session in a file instead`);
      return undefined;
    }
  };
  return {
    async load(key) {
      return (await tryKeychain(() => keychain.load(key))) ?? file.load(key);
    },
    async save(key, refreshToken) {
      const where = await tryKeychain(() => keychain.save(key, refreshToken));
      if (where === undefined) return file.save(key, refreshToken);
      // A copy left in the file by an earlier fallback would outlive the keychain entry.
      await file.remove(key);
      return where;
    },
    async remove(key) {
      const fromKeychain = (await tryKeychain(() => keychain.remove(key))) ?? false;
      const fromFile = await file.remove(key);
      return fromKeychain || fromFile;
    },
  };
}
