// `claude-key gcp access-token`: an OAuth access token from ADC, optionally for an impersonated account.
import type { Credential, ProviderContext } from '@claude-key/core';
import { UnreachableError } from '@claude-key/core';
import { createGoogleClient } from './google-client.js';
import { gcpError } from './gcp-errors.js';
import type { GcpOptions } from './options.js';
import { futureOrUndefined } from './token-expiry.js';

export async function fetchAccessToken(options: GcpOptions, ctx: ProviderContext): Promise<Credential> {
  const what = options.impersonateServiceAccount ? `impersonating ${options.impersonateServiceAccount}` : 'minting an access token';
  try {
    const { client, source } = await createGoogleClient(options, ctx.env, ctx.signal, options.scopes);
    const { token } = await client.getAccessToken();
    if (!token) throw new UnreachableError(`Google returned no access token while ${what}`);
    const expiresAt = futureOrUndefined(client.credentials.expiry_date, ctx.now());
    return { token, ...(expiresAt ? { expiresAt } : {}), meta: { source, scopes: options.scopes.join(' ') } };
  } catch (err) {
    throw gcpError(err, { what, signal: ctx.signal, resource: options.impersonateServiceAccount, role: 'roles/iam.serviceAccountTokenCreator' });
  }
}
