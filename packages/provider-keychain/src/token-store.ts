// `--cache keychain`: the engine's cached token values kept in the OS keychain instead of files.
import type { TokenStore } from '@claude-key/core';
import { deleteEntry, readEntry, writeEntry } from './keyring.js';

/** All cached values live under this one service, with the engine's cache key as the account. */
export const CACHE_SERVICE = 'claude-key-cache';

export const tokenStore: TokenStore = {
  name: 'keychain',
  get: (key) => readEntry({ service: CACHE_SERVICE, account: key }),
  set: (key, value) => writeEntry({ service: CACHE_SERVICE, account: key }, value),
  async delete(key) {
    // Deleting what is already gone is fine for a cache.
    await deleteEntry({ service: CACHE_SERVICE, account: key });
  },
};
