// The vault provider's options: what to read, how to log in, and how to reach the server.
import { zSecretRef as secretRef } from '@claude-key/core';
import * as z from 'zod';

/** Where Vault is and how to talk to it; shared with other packages that call Vault. */
export const connectionOptions = {
  address: z.url().optional().describe('Vault address (default: $VAULT_ADDR, else https://127.0.0.1:8200)'),
  namespace: z.string().min(1).optional().describe('Vault Enterprise/HCP namespace (default: $VAULT_NAMESPACE)'),
  caCert: z.string().min(1).optional().describe('PEM file of the CA that signed the Vault certificate (default: $VAULT_CACERT)'),
  caPath: z.string().min(1).optional().describe('Directory of PEM CA certificates (default: $VAULT_CAPATH)'),
  skipVerify: z.boolean().optional().describe('Do not verify the Vault TLS certificate; testing only (default: $VAULT_SKIP_VERIFY)'),
  tlsServerName: z.string().min(1).optional().describe('Name to verify the certificate against (default: $VAULT_TLS_SERVER_NAME)'),
  allowRedirectTo: z
    .array(z.url({ protocol: /^https?$/ }))
    .optional()
    .describe('Address of an active node a standby may redirect to (repeatable); the token goes only to the Vault address and these'),
};

/** How to get a Vault token. */
export const authOptions = {
  auth: z.enum(['token', 'approle', 'jwt', 'kubernetes']).default('token').describe('Auth method: token, approle, jwt (also OIDC-issued JWTs) or kubernetes'),
  authMount: z.string().min(1).optional().describe('Mount path of the auth method (default: the method name, e.g. approle)'),
  role: z.string().min(1).optional().describe('Role to log in as (jwt and kubernetes)'),
  token: secretRef('Vault token for --auth token (default: $VAULT_TOKEN, else ~/.vault-token)').optional(),
  roleId: secretRef('AppRole role_id').default('env:VAULT_ROLE_ID'),
  secretId: secretRef('AppRole secret_id').default('env:VAULT_SECRET_ID'),
  jwt: secretRef('JWT for --auth jwt or kubernetes (kubernetes default: the service-account token file)').optional(),
};

const kvVersion = z
  .union([z.literal(1), z.literal(2), z.literal('1'), z.literal('2')])
  .transform((v) => Number(v) as 1 | 2)
  .optional()
  .describe('KV engine version of the mount, 1 or 2, skipping the preflight (the mount is --mount, else the first path segment)');

export const vaultOptions = z.object({
  kind: z
    .enum(['secret', 'identity'])
    .default('secret')
    .describe('What to print: a field of a secret (default), or `identity`: a Vault identity token, a per-user JWT for --role'),
  path: z.string().min(1).optional().describe('Secret path as the vault CLI takes it: secret/litellm/claude-code, or database/creds/<role> (required unless identity)'),
  field: z.string().min(1).optional().describe('Field of the secret to print (default: the only field, when there is one)'),
  mount: z
    .string()
    .min(1)
    .optional()
    .describe('KV mount, as `vault kv get -mount=` takes it (team/kv); --path is then the secret inside it'),
  kvVersion,
  version: z.coerce.number().int().positive().optional().describe('Pinned KV v2 version to read (default: the latest)'),
  raw: z.boolean().default(false).describe('Read the path exactly as given, skipping KV detection (non-KV engines when the preflight is not allowed)'),
  expiresField: z.string().min(1).default('expires_at').describe('Field holding the secret\'s expiry (RFC 3339 or epoch seconds), used when present'),
  ...authOptions,
  authRole: z
    .string()
    .min(1)
    .optional()
    .describe('identity only: the role to log in as with --auth jwt or kubernetes (--role names the identity token role there)'),
  ...connectionOptions,
}).superRefine((options, ctx) => {
  if (options.kind === 'secret' && !options.path) ctx.addIssue({ code: 'custom', path: ['path'], message: 'needs --path (the secret, as `vault kv get` takes it)' });
  if (options.kind === 'identity' && !options.role) {
    ctx.addIssue({ code: 'custom', path: ['role'], message: 'vault identity needs --role (the identity token role, identity/oidc/role/<name>)' });
  }
});

export type VaultOptions = z.output<typeof vaultOptions>;
export type AuthSettings = Pick<VaultOptions, keyof typeof authOptions>;
export type ConnectionSettings = Pick<VaultOptions, keyof typeof connectionOptions>;
