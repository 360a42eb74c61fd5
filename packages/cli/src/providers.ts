// Every provider package claude-key knows, as names, summaries and loaders (no provider code here).
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

/** Names only, for the warm path. */
export const providerNames = providers.map((p) => p.name);
