// `claude-key gcp id-token --audience URL`: an OIDC ID token for IAP or Cloud Run from ADC or impersonation.
import type { Credential, ProviderContext } from '@claude-key/core';
import { AuthError, UnreachableError } from '@claude-key/core';
import { createGoogleClient } from './google-client.js';
import { gcpError } from './gcp-errors.js';
import type { GcpOptions } from './options.js';
import { futureOrUndefined, jwtClaims, jwtExpiry } from './token-expiry.js';

export async function fetchIdToken(options: GcpOptions, ctx: ProviderContext): Promise<Credential> {
  const audience = options.audience!; // the schema requires it for id-token
  const what = `minting an ID token for ${audience}`;
  try {
    const { client, impersonated, source } = await createGoogleClient(options, ctx.env, ctx.signal, options.scopes);
    let token: string | undefined;
    if (impersonated) {
      token = await impersonated.fetchIdToken(audience, { includeEmail: true });
    } else if ('fetchIdToken' in client && typeof client.fetchIdToken === 'function') {
      token = await (client.fetchIdToken as (audience: string) => Promise<string>)(audience);
    } else {
      throw new AuthError('these credentials cannot mint ID tokens', {
        hint: 'use a service-account key, run on Google Cloud, or add --impersonate-service-account',
      });
    }
    if (!token) throw new UnreachableError(`Google returned no ID token while ${what}`);
    warnOnOtherAudience(token, audience, ctx);
    const expiresAt = futureOrUndefined(jwtExpiry(token), ctx.now());
    return { token, ...(expiresAt ? { expiresAt } : {}), meta: { source, audience } };
  } catch (err) {
    throw gcpError(err, { what, signal: ctx.signal, resource: options.impersonateServiceAccount, role: 'roles/iam.serviceAccountTokenCreator' });
  }
}

/**
 * User credentials (gcloud ADC login) come back with an ID token for gcloud's OAuth client, not
 * for `audience`: IAP accepts it only when that client is allowlisted, Cloud Run never does.
 */
function warnOnOtherAudience(token: string, audience: string, ctx: ProviderContext): void {
  const { aud } = jwtClaims(token);
  const audiences = aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
  if (audiences.length > 0 && !audiences.includes(audience)) {
    ctx.log.warn(
      `the ID token is for audience ${audiences.join(', ')}, not ${audience} (user credentials cannot choose it); ` +
        'use --impersonate-service-account or a service account for Cloud Run, or allowlist that client in IAP',
    );
  }
}
