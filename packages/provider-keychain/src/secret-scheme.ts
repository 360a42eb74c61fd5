// `keychain:SERVICE/ACCOUNT` references (in profiles, flags and gateway config), resolved from the OS keychain.
import { ConfigError, type SecretScheme } from '@claude-key/core';
import { requireEntry } from './keyring.js';

/** Splits `SERVICE/ACCOUNT`; the account is everything after the first slash. */
export function parseEntryRef(rest: string): { service: string; account: string } | undefined {
  const slash = rest.indexOf('/');
  return slash > 0 && slash < rest.length - 1 ? { service: rest.slice(0, slash), account: rest.slice(slash + 1) } : undefined;
}

/** Registered as the `keychain` scheme by a helper (`createHelper({ secretSchemes })`). */
export const secretScheme: SecretScheme = {
  usage: 'keychain:SERVICE/ACCOUNT',
  async resolve(rest, ctx) {
    const name = parseEntryRef(rest);
    if (!name) throw new ConfigError(`keychain reference "keychain:${rest}" must be keychain:SERVICE/ACCOUNT`);
    // Multi-line values are fine here (a PEM key for provider-jwt); only printed tokens must be one line.
    return requireEntry(name, ctx.signal);
  },
};
