// The HTTP transport google-auth-library uses for us: our deadline signal, and the key file's token_uri.
import type { gaxios } from 'google-auth-library';

/** The token endpoint google-auth-library hard-codes for service-account and user credentials. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/**
 * A Gaxios instance that carries `signal` on every request and, when the credentials file names
 * its own `token_uri` (Private Service Connect, sovereign clouds, a test server), sends token
 * requests there: google-auth-library ignores that field, while gcloud and google-auth for
 * Python honour it.
 */
export function createTransport(Gaxios: typeof gaxios.Gaxios, signal: AbortSignal, tokenUri: string | undefined): gaxios.Gaxios {
  const transport = new Gaxios({ signal });
  if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL) {
    const target = new URL(tokenUri);
    transport.interceptors.request.add({
      resolved: async (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = target;
        return config;
      },
    });
  }
  return transport;
}
