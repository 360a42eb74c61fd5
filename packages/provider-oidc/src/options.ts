// The zod options of `claude-key oidc` and the pieces its login/logout commands share.
import * as z from 'zod';
import { zSecretRef } from '@claude-key/core';

export const DEFAULT_USER_SCOPE = ['openid', 'offline_access'] as const;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Options that name the provider, the client and the stored session; every command takes them. */
export const sessionFields = {
  issuer: z.url().describe('Issuer URL of the OpenID Provider (discovery reads <issuer>/.well-known/openid-configuration)'),
  clientId: z.string().min(1).describe('OAuth client id registered at the provider'),
  scope: z
    .array(z.string())
    .optional()
    .describe('Scope to request (repeatable or space-separated; default: "openid offline_access", none for client credentials)'),
  storage: z
    .enum(['auto', 'keychain', 'file'])
    .default('auto')
    .describe('Where the refresh token lives: the OS keychain, a 0600 file, or auto (keychain, else file)'),
  allowInsecureRequests: z
    .boolean()
    .default(false)
    .describe('Allow a plain-http issuer on a loopback address (local test providers only)'),
};

/** Options for talking to the token endpoint (refresh, client credentials, revocation). */
export const clientFields = {
  clientSecret: zSecretRef('Client secret of a confidential client; public clients have none').optional(),
  clientAuth: z
    .enum(['client_secret_basic', 'client_secret_post'])
    .default('client_secret_basic')
    .describe('How a client secret is sent to the token endpoint'),
  resource: z.url().optional().describe('RFC 8707 resource indicator: the API the access token is for'),
  audience: z.string().min(1).optional().describe('"audience" parameter, for providers that use it instead of resource (Auth0, Okta)'),
};

export const fetchOptions = z
  .object({
    ...sessionFields,
    ...clientFields,
    grant: z
      .enum(['refresh', 'client-credentials'])
      .default('refresh')
      .describe('refresh: use the session stored by `oidc login`; client-credentials: CI and service accounts'),
    idToken: z.boolean().default(false).describe('Print the ID token instead of the access token'),
  })
  .superRefine((o, ctx) => {
    checkIssuerScheme(o, ctx);
    if (o.grant === 'client-credentials' && o.clientSecret === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'the client-credentials grant needs --client-secret (a reference such as env:OIDC_CLIENT_SECRET)' });
    }
    if (o.grant === 'client-credentials' && o.idToken) {
      ctx.addIssue({ code: 'custom', path: ['idToken'], message: 'the client-credentials grant issues no ID token' });
    }
  });

export type FetchOptions = z.output<typeof fetchOptions>;

/** The loopback exception is explicit so a typo can never send a refresh token over plain http. */
export function checkIssuerScheme(o: { issuer: string; allowInsecureRequests: boolean }, ctx: z.RefinementCtx): void {
  const url = new URL(o.issuer);
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'the issuer must be an https:// URL' });
  } else if (!o.allowInsecureRequests) {
    ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'the issuer must be https:// (--allow-insecure-requests permits http on loopback only)' });
  } else if (!LOOPBACK_HOSTS.has(url.hostname)) {
    ctx.addIssue({ code: 'custom', path: ['allowInsecureRequests'], message: 'plain http is allowed only for loopback issuers (127.0.0.1, ::1, localhost)' });
  }
}

/** Scope values as sent: flags may repeat or carry a space-separated list. */
export function scopeList(scope: readonly string[] | undefined, fallback: readonly string[]): string[] {
  const values = (scope ?? fallback).flatMap((s) => s.split(/\s+/)).filter(Boolean);
  return [...new Set(values)];
}
