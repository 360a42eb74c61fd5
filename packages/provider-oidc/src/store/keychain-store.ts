// Refresh tokens in the OS keychain through @napi-rs/keyring, loaded only when a session is touched.
import { UnreachableError, isAbortError } from '@claude-key/core';
import { sessionLabel, type SessionStore } from './session-store.js';

export const KEYCHAIN_SERVICE = 'claude-key-oidc';

/** The slice of @napi-rs/keyring this store uses; tests hand in a stand-in. */
export interface KeyringBinding {
  AsyncEntry: new (
    service: string,
    account: string,
    options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
  ) => {
    getPassword(): Promise<string | null>;
    setPassword(value: string): Promise<void>;
    deletePassword(): Promise<boolean>;
  };
}

export const loadKeyringBinding = async (): Promise<KeyringBinding> => (await import('@napi-rs/keyring')) as KeyringBinding;

// Without this the Linux binding silently falls back to the kernel keyring, which forgets
// everything at logout: a refresh token there would look stored and then vanish.
const ENTRY_OPTIONS = { linux: { store: 'secret-service' as const } };

export function createKeychainStore(loadBinding: () => Promise<KeyringBinding> = loadKeyringBinding): SessionStore {
  const call = async <T>(account: string, what: string, op: (entry: InstanceType<KeyringBinding['AsyncEntry']>) => Promise<T>) => {
    try {
      const { AsyncEntry } = await loadBinding();
      return await op(new AsyncEntry(KEYCHAIN_SERVICE, account, ENTRY_OPTIONS));
    } catch (err) {
      if (isAbortError(err)) throw err;
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 160);
      throw new UnreachableError(`the OS keychain could not ${what} (${reason})`, {
        hint: 'unlock the keychain, or use --storage file',
        cause: err,
      });
    }
  };
  return {
    async load(key) {
      return (await call(sessionLabel(key), 'read the OIDC session', (e) => e.getPassword())) ?? undefined;
    },
    async save(key, refreshToken) {
      const account = sessionLabel(key);
      await call(account, 'store the OIDC session', (e) => e.setPassword(refreshToken));
      return `the OS keychain (service ${KEYCHAIN_SERVICE}, account ${account})`;
    },
    async remove(key) {
      return call(sessionLabel(key), 'delete the OIDC session', (e) => e.deletePassword());
    },
  };
}
