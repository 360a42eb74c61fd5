// The claude-key helper: the core engine plus every provider package, each loaded only when used.
import { createHelper } from '@claude-key/core/helper';
import { providers } from './providers.js';
import type { PlainOptions } from '@claude-key/core/helper';

/**
 * The plain-call bundle's providers' options as plain data, written in by scripts/bundle.mjs
 * (esbuild's define); undefined elsewhere (the full CLI, tests from source), where zod reads them.
 */
declare const __CK_PLAIN_OPTIONS__: Record<string, PlainOptions> | undefined;

const keychainPackage = '@claude-key/provider-keychain';

export const helper = createHelper({
  name: 'claude-key',
  version: '0.1.0',
  description: "Prints one credential for Claude Code's apiKeyHelper, cached to Claude Code's TTL.",
  providers,
  plainOptions: typeof __CK_PLAIN_OPTIONS__ === 'undefined' ? undefined : __CK_PLAIN_OPTIONS__,
  tokenStores: {
    keychain: async () => ((await import(keychainPackage)) as { tokenStore: never }).tokenStore,
  },
  secretSchemes: {
    keychain: async () => ((await import(keychainPackage)) as { secretScheme: never }).secretScheme,
  },
});
