// The claude-key helper: the core engine plus every provider package, each loaded only when used.
import { createHelper } from '@claude-key/core/helper';
import { providers } from './providers.js';

const keychainPackage = '@claude-key/provider-keychain';

export const helper = createHelper({
  name: 'claude-key',
  version: '0.1.0',
  description: "Prints one credential for Claude Code's apiKeyHelper, cached to Claude Code's TTL.",
  providers,
  tokenStores: {
    keychain: async () => ((await import(keychainPackage)) as { tokenStore: never }).tokenStore,
  },
  secretSchemes: {
    keychain: async () => ((await import(keychainPackage)) as { secretScheme: never }).secretScheme,
  },
});
