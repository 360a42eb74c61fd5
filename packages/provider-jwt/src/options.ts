// The zod options of `claude-key jwt` (minting) and the pieces its commands share.
import { z } from 'zod';
import { zDuration, zSecretRef } from '@claude-key/core';
import { SIGNING_ALGORITHMS } from './signing-key.js';

export const keysDirOption = z.string().min(1).optional().describe('Directory of the local key set (default: <config dir>/claude-key/keys)');

/** Options that pick a Vault transit key; shared by minting and `jwt jwks`. */
export const vaultOptions = {
  vaultTransitKey: z.string().min(1).optional().describe('Sign in Vault with this transit key (the private key never leaves Vault)'),
  vaultMount: z.string().min(1).default('transit').describe('Mount path of the transit engine'),
  vaultAddr: z.url().optional().describe('Vault address (default: $VAULT_ADDR)'),
  vaultToken: zSecretRef('Vault token').default('env:VAULT_TOKEN'),
  vaultNamespace: z.string().min(1).optional().describe('Vault Enterprise namespace (default: $VAULT_NAMESPACE)'),
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
