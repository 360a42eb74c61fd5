// Finds and reads the credentials JSON the way ADC does, but from the helper's environment (ctx.env).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, NotFoundError } from '@claude-key/core';

export interface CredentialsJson {
  type?: string;
  client_email?: string;
  token_uri?: string;
  [key: string]: unknown;
}

export interface LoadedCredentials {
  path: string;
  json: CredentialsJson;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where `gcloud auth application-default login` writes its file. */
export function wellKnownCredentialsPath(env: Env): string | undefined {
  if (env.CLOUDSDK_CONFIG) return join(env.CLOUDSDK_CONFIG, 'application_default_credentials.json');
  if (process.platform === 'win32') return env.APPDATA ? join(env.APPDATA, 'gcloud', 'application_default_credentials.json') : undefined;
  return env.HOME ? join(env.HOME, '.config', 'gcloud', 'application_default_credentials.json') : undefined;
}

/**
 * The explicit file (option, then GOOGLE_APPLICATION_CREDENTIALS), else gcloud's well-known file
 * if it exists, else undefined: the caller then lets google-auth-library try the metadata server.
 */
export async function loadCredentials(explicitPath: string | undefined, env: Env): Promise<LoadedCredentials | undefined> {
  const explicit = explicitPath ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  const path = explicit ?? wellKnownCredentialsPath(env);
  if (!path) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return undefined;
    const source = explicitPath ? '--credentials-file' : explicit ? 'GOOGLE_APPLICATION_CREDENTIALS' : 'the gcloud ADC file';
    if (code === 'ENOENT') {
      throw new NotFoundError(`the Google credentials file ${path} (${source}) does not exist`, { hint: 'check the path, or run `gcloud auth application-default login`' });
    }
    throw new ConfigError(`cannot read the Google credentials file ${path} (${source}): ${code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`the Google credentials file ${path} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || typeof (json as CredentialsJson).type !== 'string') {
    throw new ConfigError(`the Google credentials file ${path} has no "type" field`, {
      hint: 'expected a service-account key, an authorized_user file from gcloud, or an external_account configuration',
    });
  }
  return { path, json: json as CredentialsJson };
}
