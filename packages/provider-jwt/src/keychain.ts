// Writes and deletes private keys in the OS keychain for `keygen --store keychain` (reads go through ctx.secret).
import { UnreachableError } from '@claude-key/core';

export interface KeychainWriter {
  set(service: string, account: string, secret: string): Promise<void>;
  delete(service: string, account: string): Promise<void>;
}

/** The reference ctx.secret resolves to read the key back. */
export function keychainRef(service: string, account: string): string {
  return `keychain:${service}/${account}`;
}

/** Splits `keychain:service/account`; the account is everything after the first slash. */
export function parseKeychainRef(ref: string): { service: string; account: string } | undefined {
  const match = /^keychain:([^/]+)\/(.+)$/.exec(ref);
  return match ? { service: match[1]!, account: match[2]! } : undefined;
}

// Pinned to the Secret Service on Linux, like the keychain provider that reads it back: the binding would
// otherwise fall back to the kernel keyring, which forgets the key at logout. Ignored elsewhere.
const ENTRY_OPTIONS = { linux: { store: 'secret-service' as const } };

function keychainFailure(action: string, err: unknown): UnreachableError {
  // The keyring's own message names the backend problem (no Secret Service, locked keychain), never the secret.
  const reason = err instanceof Error ? err.message.split('\n')[0] : 'unknown error';
  return new UnreachableError(`cannot ${action} the OS keychain: ${reason}`, { hint: 'unlock the keychain, or use the default file store' });
}

/** The real keychain: macOS Keychain, Windows Credential Manager or Linux Secret Service. */
export const osKeychain: KeychainWriter = {
  async set(service, account, secret) {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    try {
      await new AsyncEntry(service, account, ENTRY_OPTIONS).setPassword(secret);
    } catch (err) {
      throw keychainFailure('write to', err);
    }
  },
  async delete(service, account) {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    try {
      await new AsyncEntry(service, account, ENTRY_OPTIONS).deleteCredential();
    } catch (err) {
      throw keychainFailure('delete from', err);
    }
  },
};
