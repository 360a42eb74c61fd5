// The claude-key helper: the core engine plus every provider package, each loaded only when used.
// The warm path must not evaluate zod or commander: import the factory alone, not the package index.
import { createHelper } from '@claude-key/core/helper';
import type { ProviderEntry } from '@claude-key/core';

// Module names live in variables so neither TypeScript nor the bundler pulls provider code (and
// their SDKs) into the binary: they load from node_modules only when the cache cannot answer.
const lazy = (name: string, summary: string, pkg: string, exportName = 'default'): ProviderEntry => ({
  name,
  summary,
  load: async () => {
    const mod = (await import(pkg)) as Record<string, unknown>;
    return mod[exportName] as never;
  },
});

export const providers: ProviderEntry[] = [
  lazy('vault', 'HashiCorp Vault: KV v1/v2 field or a dynamic secret (token, AppRole, JWT, Kubernetes auth)', '@claude-key/provider-vault'),
  lazy('aws', 'AWS Secrets Manager secret (standard AWS credential chain)', '@claude-key/provider-aws'),
  lazy('aws-credentials', "AWS credentials JSON for Claude Code's awsCredentialExport", '@claude-key/provider-aws', 'awsCredentialsProvider'),
  lazy('keychain', 'the OS keychain (macOS Keychain, Windows Credential Manager, Secret Service)', '@claude-key/provider-keychain'),
  lazy('gcp', 'Google Cloud access token, ID token, or Secret Manager secret', '@claude-key/provider-gcp'),
  lazy('jwt', 'mint a short-lived per-user JWT (local key, keychain, or Vault transit)', '@claude-key/provider-jwt'),
  lazy('oidc', 'OIDC access/ID token from a device-flow login, refreshed silently', '@claude-key/provider-oidc'),
];

const keychainPackage = '@claude-key/provider-keychain';

export const helper = createHelper({
  name: 'claude-key',
  version: '0.1.0',
  description: "Prints one credential for Claude Code's apiKeyHelper, cached to Claude Code's TTL.",
  providers,
  tokenStores: {
    keychain: async () => ((await import(keychainPackage)) as { tokenStore: never }).tokenStore,
  },
});
