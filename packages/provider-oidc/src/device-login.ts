// The OAuth 2.0 Device Authorization Grant (RFC 8628): show the code, maybe open a browser, poll for tokens.
import type { Configuration } from 'openid-client';
import { AuthError } from '@claude-key/core';
import type { OpenIdClient } from './client.js';
import type { TokenResponse } from './credential.js';
import { oidcError } from './errors.js';
import type { SignInUi } from './sign-in-ui.js';

export async function deviceLogin(
  client: OpenIdClient,
  config: Configuration,
  issuer: string,
  parameters: Record<string, string>,
  ui: SignInUi,
): Promise<TokenResponse> {
  let started;
  try {
    started = await client.initiateDeviceAuthorization(config, parameters);
  } catch (err) {
    throw oidcError(err, { issuer, action: 'start a device sign-in' });
  }
  ui.say(`To sign in, open ${started.verification_uri} and enter the code ${started.user_code}`);
  if (started.verification_uri_complete) ui.say(`(or open ${started.verification_uri_complete} to skip typing the code)`);
  if (ui.openBrowser) {
    // A missing browser is normal on servers and in containers: the printed URL is enough.
    await ui.openBrowser(started.verification_uri_complete ?? started.verification_uri).catch(() => undefined);
  }
  const codeExpiry = AbortSignal.timeout(started.expires_in * 1000);
  ui.say(`Waiting for the sign-in to finish (the code expires in ${Math.round(started.expires_in / 60)} min)...`);
  try {
    return await client.pollDeviceAuthorizationGrant(config, started, parameters, {
      signal: AbortSignal.any([ui.signal, codeExpiry]),
    });
  } catch (err) {
    if (codeExpiry.aborted && !ui.signal.aborted) {
      throw new AuthError(`the code expired before the sign-in at ${issuer} finished`, { hint: 'run claude-key oidc login again' });
    }
    throw oidcError(err, { issuer, action: 'finish the device sign-in' });
  }
}
