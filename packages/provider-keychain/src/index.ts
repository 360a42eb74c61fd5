// @claude-key/provider-keychain: a token stored in the OS keychain, plus the `--cache keychain` token store.
import { ConfigError, defineProvider } from '@claude-key/core';
import { entryOptions } from './options.js';
import { describe, requireEntry } from './keyring.js';
import { deleteCommand, setCommand } from './commands.js';

export { tokenStore, CACHE_SERVICE } from './token-store.js';
export { secretScheme, parseEntryRef } from './secret-scheme.js';
// The one OS keychain wrapper: provider-jwt and provider-oidc keep their keys and sessions through it.
export { readEntry, requireEntry, writeEntry, deleteEntry, describe as describeEntry, type EntryName } from './keyring.js';

export default defineProvider({
  name: 'keychain',
  summary: 'A secret from the OS keychain (macOS Keychain, Windows Credential Manager, Linux Secret Service)',
  options: entryOptions,
  examples: ['claude-key keychain --service anthropic --account work'],
  commands: { set: setCommand, delete: deleteCommand },
  identity: ({ service, account }) => ({ inputs: { service, account } }),
  async fetch(options, ctx) {
    const token = await requireEntry(options, ctx.signal);
    // Multi-line values are legitimate here: `keychain:` references resolve through this fetch and
    // may hold a PEM key (provider-jwt). The engine refuses to *print* a multi-line token.
    if (token.trim().length === 0) throw new ConfigError(`the keychain entry ${describe(options)} is empty`);
    return { token, meta: { service: options.service, account: options.account } };
  },
});
