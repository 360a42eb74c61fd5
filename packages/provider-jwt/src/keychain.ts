// Writes and deletes private keys in the OS keychain for `keygen --store keychain` (reads go through ctx.secret).
// The keychain itself is provider-keychain's one wrapper: same Secret Service pinning, same error lines.
// Loaded only when a key goes in or out of the keychain, so a mint never loads the keychain package.
const keychainPackage = () => import('@claude-key/provider-keychain');

export interface KeychainWriter {
  set(service: string, account: string, secret: string): Promise<void>;
  delete(service: string, account: string): Promise<void>;
}

/** The reference ctx.secret resolves to read the key back. */
export function keychainRef(service: string, account: string): string {
  return `keychain:${service}/${account}`;
}

/** Splits `keychain:service/account`; the account is everything after the first slash. */
export async function parseKeychainRef(ref: string): Promise<{ service: string; account: string } | undefined> {
  return ref.startsWith('keychain:') ? (await keychainPackage()).parseEntryRef(ref.slice('keychain:'.length)) : undefined;
}

/** The real keychain: macOS Keychain, Windows Credential Manager or Linux Secret Service. */
export const osKeychain: KeychainWriter = {
  set: async (service, account, secret) => (await keychainPackage()).writeEntry({ service, account }, secret),
  async delete(service, account) {
    await (await keychainPackage()).deleteEntry({ service, account });
  },
};
