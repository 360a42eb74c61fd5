// The zod options of `claude-key jwt` (minting) and the pieces its commands share.
import * as z from 'zod';
import { zDuration, zSecretRef } from '@claude-key/core';
import { authOptions, connectionOptions } from '@claude-key/provider-vault';
import { SIGNING_ALGORITHMS } from './signing-key.js';

export const keysDirOption = z.string().min(1).optional().describe('Directory of the local key set (default: <config dir>/claude-key/keys)');

/**
 * Options that pick a Vault transit key and reach Vault; connection and login reuse the vault
 * provider's fields (same defaults: VAULT_ADDR, VAULT_TOKEN or ~/.vault-token, VAULT_CACERT...),
 * prefixed so they cannot be mistaken for the JWT's own --role or --jwt.
 */
export const vaultOptions = {
  vaultTransitKey: z.string().min(1).optional().describe('Sign in Vault with this transit key (the private key never leaves Vault)'),
  vaultMount: z.string().min(1).default('transit').describe('Mount path of the transit engine'),
  vaultAddr: connectionOptions.address,
  vaultNamespace: connectionOptions.namespace,
  vaultCaCert: connectionOptions.caCert,
  vaultCaPath: connectionOptions.caPath,
  vaultSkipVerify: connectionOptions.skipVerify,
  vaultTlsServerName: connectionOptions.tlsServerName,
  vaultAuth: authOptions.auth,
  vaultAuthMount: authOptions.authMount,
  vaultRole: authOptions.role,
  vaultToken: authOptions.token,
  vaultRoleId: authOptions.roleId,
  vaultSecretId: authOptions.secretId,
  vaultJwt: authOptions.jwt,
};

export const mintOptions = z.object({
  sub: z.string().min(1).optional().describe('Subject claim (default: the OS user name)'),
  team: z.string().min(1).optional().describe('Team claim'),
  aud: z.string().min(1).optional().describe('Audience claim, e.g. claude-gateway'),
  iss: z.string().min(1).default('claude-key').describe('Issuer claim'),
  claim: z.array(z.string()).default([]).describe('Extra claim k=v (repeatable; JSON values keep their type)'),
  key: zSecretRef('Signing key, PEM PKCS8 or JWK (default: the active key of the local key set)').optional(),
  kid: z.string().min(1).optional().describe('Key id: picks a key of the local key set, or names the --key key'),
  alg: z.enum(SIGNING_ALGORITHMS).optional().describe('Expected algorithm of --key (checked against the key type)'),
  keysDir: keysDirOption,
  maxLifetime: zDuration('Longest token lifetime').default(3_600_000),
  minLifetime: zDuration('Shortest token lifetime').default(300_000),
  clockSkew: zDuration('Clock difference tolerated by the gateway (nbf is backdated, exp extended)').default(30_000),
  ...vaultOptions,
});

export type MintOptions = z.output<typeof mintOptions>;
