// Every provider package claude-key knows, as names, summaries and loaders (no provider code here).
import type { ProviderEntry } from '@claude-key/core';

// Each loader is a literal `import()`, so scripts/bundle.mjs can put a provider in its own chunk of
// the CLI bundle (sharing the bundle's one copy of core and zod) or leave it external, to load from
// node_modules when used. The `as string` keeps TypeScript from resolving provider types here.
const lazy = (name: string, summary: string, load: () => Promise<unknown>, exportName = 'default'): ProviderEntry => ({
  name,
  summary,
  load: async () => ((await load()) as Record<string, unknown>)[exportName] as never,
});

export const providers: ProviderEntry[] = [
  lazy('vault', 'HashiCorp Vault: KV v1/v2 field or a dynamic secret (token, AppRole, JWT, Kubernetes auth)', () => import('@claude-key/provider-vault' as string)),
  lazy('aws', 'AWS Secrets Manager secret (standard AWS credential chain)', () => import('@claude-key/provider-aws' as string)),
  lazy('aws-credentials', "AWS credentials JSON for Claude Code's awsCredentialExport", () => import('@claude-key/provider-aws' as string), 'awsCredentialsProvider'),
  lazy('keychain', 'the OS keychain (macOS Keychain, Windows Credential Manager, Secret Service)', () => import('@claude-key/provider-keychain' as string)),
  lazy('gcp', 'Google Cloud access token, ID token, or Secret Manager secret', () => import('@claude-key/provider-gcp' as string)),
  lazy('jwt', 'mint a short-lived per-user JWT (local key, keychain, or Vault transit)', () => import('@claude-key/provider-jwt' as string)),
  lazy('oidc', 'OIDC access/ID token from a device-flow login, refreshed silently', () => import('@claude-key/provider-oidc' as string)),
];

/** Names only, for the warm path. */
export const providerNames = providers.map((p) => p.name);

/**
 * Provider commands with a plain-call bundle, `dist/plain/<bundle>.cjs` (scripts/bundle.mjs builds
 * one per provider package: vault, aws, gcp, jwt); a missing bundle sends the call to the full CLI.
 */
export const plainBundles: Readonly<Record<string, string>> = { vault: 'vault', aws: 'aws', 'aws-credentials': 'aws', gcp: 'gcp', jwt: 'jwt' };
