// The client-credentials grant (RFC 6749 4.4) for CI and service accounts: no login, no stored session.
import type { Credential, ProviderContext } from '@claude-key/core';
import { discover } from './client.js';
import { credentialFrom } from './credential.js';
import { oidcError } from './errors.js';
import { scopeList, type FetchOptions } from './options.js';
import { tokenParameters } from './token-parameters.js';

export async function fetchWithClientCredentials(o: FetchOptions, ctx: ProviderContext): Promise<Credential> {
  // The schema guarantees a secret reference for this grant.
  const secret = await ctx.secret(o.clientSecret!);
  const { client, config } = await discover(o, secret, ctx.signal);
  const requestedAt = ctx.now();
  try {
    const response = await client.clientCredentialsGrant(config, tokenParameters(o, scopeList(o.scope, [])));
    return credentialFrom(response, { idToken: false, issuer: o.issuer, requestedAt, meta: { grant: 'client_credentials' } });
  } catch (err) {
    throw oidcError(err, { issuer: o.issuer, action: 'issue a client-credentials token' });
  }
}
