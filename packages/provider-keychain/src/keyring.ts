// Reads, writes and deletes one OS keychain entry through @napi-rs/keyring (loaded on first use).
import { NotFoundError } from '@claude-key/core';
import type { AsyncEntry } from '@napi-rs/keyring';
import { keyringError } from './keyring-errors.js';

export interface EntryName {
  service: string;
  account: string;
}

// On Linux the binding would silently fall back to the kernel keyring (keyutils) when no Secret
// Service answers; that store forgets everything at logout, so we require the Secret Service and
// report its absence instead. The option is ignored on macOS and Windows.
const ENTRY_OPTIONS = { linux: { store: 'secret-service' as const } };

/** Runs one keychain operation, turning every binding failure into a claude-key error. */
async function onEntry<T>(name: EntryName, what: string, signal: AbortSignal | undefined, use: (entry: AsyncEntry) => Promise<T>): Promise<T> {
  signal?.throwIfAborted();
  const { AsyncEntry } = await import('@napi-rs/keyring');
  try {
    // The constructor already talks to D-Bus on Linux, so it fails first when no bus answers.
    return await use(new AsyncEntry(name.service, name.account, ENTRY_OPTIONS));
  } catch (err) {
    throw keyringError(err, `${what} ${describe(name)}`);
  }
}

/** The stored value, or undefined when no entry exists for service/account. */
export async function readEntry(name: EntryName, signal?: AbortSignal): Promise<string | undefined> {
  return (await onEntry(name, 'read', signal, (entry) => entry.getPassword(signal))) ?? undefined;
}

/** Like readEntry, but a missing entry is a NotFoundError naming service and account. */
export async function requireEntry(name: EntryName, signal?: AbortSignal): Promise<string> {
  const value = await readEntry(name, signal);
  if (value === undefined) {
    throw new NotFoundError(`no keychain entry for ${describe(name)}`, {
      hint: `store one with: claude-key keychain set --service ${quote(name.service)} --account ${quote(name.account)}`,
    });
  }
  return value;
}

export async function writeEntry(name: EntryName, value: string, signal?: AbortSignal): Promise<void> {
  await onEntry(name, 'store', signal, (entry) => entry.setPassword(value, signal));
}

/** Deletes the entry; returns false when there was none. */
export async function deleteEntry(name: EntryName, signal?: AbortSignal): Promise<boolean> {
  return onEntry(name, 'delete', signal, (entry) => entry.deleteCredential(signal));
}

export function describe(name: EntryName): string {
  return `service "${name.service}" account "${name.account}"`;
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
