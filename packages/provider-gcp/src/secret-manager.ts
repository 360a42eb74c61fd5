// `claude-key gcp secret --name projects/P/secrets/S/versions/V`: a secret's payload from Secret Manager's REST API.
import type { Credential, ProviderContext } from '@claude-key/core';
import { ConfigError, UnreachableError } from '@claude-key/core';
import { createGoogleClient } from './google-client.js';
import { gcpError } from './gcp-errors.js';
import { CLOUD_PLATFORM_SCOPE, type GcpOptions } from './options.js';

interface AccessSecretVersionResponse {
  name?: string;
  payload?: { data?: string; dataCrc32c?: string | number };
}

/** The API base: the override, the regional endpoint for `projects/P/locations/L/...`, or the global one. */
export function secretManagerBase(options: Pick<GcpOptions, 'name' | 'secretManagerEndpoint'>): string {
  if (options.secretManagerEndpoint) return options.secretManagerEndpoint.replace(/\/+$/, '');
  const location = /^projects\/[^/]+\/locations\/([^/]+)\//.exec(options.name ?? '')?.[1];
  return location ? `https://secretmanager.${location}.rep.googleapis.com` : 'https://secretmanager.googleapis.com';
}

export async function fetchSecret(options: GcpOptions, ctx: ProviderContext): Promise<Credential> {
  const name = options.name!; // the schema requires it for secret
  let answer: AccessSecretVersionResponse;
  try {
    const { client } = await createGoogleClient(options, ctx.env, ctx.signal, [CLOUD_PLATFORM_SCOPE]);
    const response = await client.request<AccessSecretVersionResponse>({
      url: `${secretManagerBase(options)}/v1/${name}:access`,
      method: 'GET',
      responseType: 'json',
      signal: ctx.signal,
    });
    answer = response.data;
  } catch (err) {
    throw gcpError(err, { what: 'reading the secret', signal: ctx.signal, resource: name, role: 'roles/secretmanager.secretAccessor' });
  }
  const data = answer?.payload?.data;
  if (typeof data !== 'string') throw new UnreachableError(`Secret Manager answered without payload.data for ${name}`);
  const bytes = Buffer.from(data, 'base64');
  await verifyChecksum(bytes, answer.payload?.dataCrc32c, name);
  // Values stored with `echo` end in a newline. Inner line breaks are the core's token rule to refuse.
  const token = bytes.toString('utf8').trim();
  if (token.length === 0) throw new ConfigError(`the secret ${name} is empty`);
  const version = /\/versions\/([^/]+)$/.exec(answer.name ?? '')?.[1];
  return { token, meta: { secret: name, ...(version ? { version } : {}) } };
}

/** Secret Manager sends a CRC32C of the payload; a mismatch means the bytes were damaged on the way. */
async function verifyChecksum(bytes: Buffer, expected: string | number | undefined, name: string): Promise<void> {
  if (expected === undefined) return;
  const { crc32c } = await import('@aws-crypto/crc32c');
  if (String(crc32c(bytes) >>> 0) !== String(expected)) {
    throw new UnreachableError(`the payload of ${name} failed its CRC32C check (damaged in transit)`, { hint: 'retry; if it persists, check proxies between you and Google' });
  }
}
