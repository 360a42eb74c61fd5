// Discovers the OpenID Provider and builds an openid-client Configuration bound to our deadline.
import type { Configuration } from 'openid-client';
import { oidcError } from './errors.js';

export interface ClientSettings {
  issuer: string;
  clientId: string;
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  allowInsecureRequests: boolean;
}

export type OpenIdClient = typeof import('openid-client');

/**
 * Runs discovery (`<issuer>/.well-known/openid-configuration`, issuer checked by openid-client).
 * `clientSecret` undefined means a public client (token endpoint auth "none").
 */
export async function discover(
  settings: ClientSettings,
  clientSecret: string | undefined,
  signal: AbortSignal,
): Promise<{ client: OpenIdClient; config: Configuration }> {
  signal.throwIfAborted();
  const client = await import('openid-client');
  const auth =
    clientSecret === undefined
      ? client.None()
      : settings.clientAuth === 'client_secret_post'
        ? client.ClientSecretPost(clientSecret)
        : client.ClientSecretBasic(clientSecret);
  try {
    const config = await client.discovery(new URL(settings.issuer), settings.clientId, undefined, auth, {
      execute: settings.allowInsecureRequests ? [client.allowInsecureRequests] : [],
      [client.customFetch]: fetchWithSignal(signal),
    });
    return { client, config };
  } catch (err) {
    throw oidcError(err, { issuer: settings.issuer, action: 'serve its discovery document' });
  }
}

/** Every request openid-client makes also stops when the helper's deadline fires. */
function fetchWithSignal(deadline: AbortSignal) {
  return (url: string, init: RequestInit & { signal?: AbortSignal }) =>
    fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
}
