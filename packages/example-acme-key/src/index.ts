// acme-key: Acme's branded apiKeyHelper. Same engine as claude-key, Acme's providers, Acme's name.
import { createHelper } from '@claude-key/core';

export const acmeKey = createHelper({
  name: 'acme-key',
  version: '0.1.0',
  description: "Acme's credential helper for Claude Code (ask #platform for help).",
  providers: [
    { name: 'token-service', summary: "Acme's token service", load: () => import('./token-service-provider.js') },
  ],
  // `keychain:` references (the device key's default) come from provider-keychain, loaded only when one is used.
  secretSchemes: { keychain: async () => (await import('@claude-key/provider-keychain')).secretScheme },
});
