// Builds the google-auth-library client for one fetch: ADC (or a given file), optionally impersonating.
import type { AuthClient, Impersonated } from 'google-auth-library';
import { loadCredentials } from './credentials-file.js';
import { CLOUD_PLATFORM_SCOPE, type GcpOptions } from './options.js';
import { createTransport } from './transport.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface GoogleClient {
  /** The client whose tokens we print: the ADC client, or the impersonated one. */
  client: AuthClient;
  /** Set when --impersonate-service-account is used. */
  impersonated?: Impersonated;
  /** What the credentials are, for `cache status` (never secret). */
  source: string;
}

/**
 * `scopes` are the scopes of the printed access token. With impersonation the source
 * credentials only need cloud-platform (to call IAM Credentials); the target gets `scopes`.
 */
export async function createGoogleClient(options: GcpOptions, env: Env, signal: AbortSignal, scopes: string[]): Promise<GoogleClient> {
  // Loaded here, not at module top: the warm path (served from the engine's cache) never pays for it.
  const { GoogleAuth, Impersonated, gaxios } = await import('google-auth-library');
  const loaded = await loadCredentials(options.credentialsFile, env);
  const transporter = createTransport(gaxios.Gaxios, signal, loaded?.json.token_uri);
  const auth = new GoogleAuth({
    ...(loaded ? { credentials: loaded.json } : {}),
    scopes: options.impersonateServiceAccount ? [CLOUD_PLATFORM_SCOPE] : scopes,
    clientOptions: { transporter, ...(options.quotaProject ? { quotaProjectId: options.quotaProject } : {}) },
  });
  const source = await auth.getClient();
  const sourceName = loaded ? `${loaded.json.type}${loaded.json.client_email ? ` ${loaded.json.client_email}` : ''}` : 'metadata server';
  if (!options.impersonateServiceAccount) return { client: source, source: sourceName };

  const impersonated = new Impersonated({
    sourceClient: source,
    targetPrincipal: options.impersonateServiceAccount,
    targetScopes: scopes,
    lifetime: 3600,
    transporter,
    ...(options.iamCredentialsEndpoint ? { endpoint: options.iamCredentialsEndpoint.replace(/\/+$/, '') } : {}),
    ...(options.quotaProject ? { quotaProjectId: options.quotaProject } : {}),
  });
  return { client: impersonated, impersonated, source: `${sourceName} as ${options.impersonateServiceAccount}` };
}
