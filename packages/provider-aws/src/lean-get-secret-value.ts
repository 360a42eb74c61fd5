// GetSecretValue without the SDK client: SigV4 from @smithy/signature-v4, one POST over node:https.
//
// The SDK client costs most of `claude-key aws`'s cold start (its shared chunk with the whole
// credential chain, endpoint rules engine, middleware stack and protocol code). The common case,
// static keys in the environment and a region named in a flag or the environment, needs none of
// that. leanPlan() says whether a call is that case; anything it cannot reproduce exactly as the
// SDK would (profiles, SSO, web identity, IMDS, FIPS/dual-stack, other partitions, endpoints or
// retry settings from the shared config file) gets undefined and goes through the SDK client.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { isClockSkewError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { ConnectionOptions } from './client-config.js';
import type { SecretPayload } from './secret-value.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface LeanPlan {
  region: string;
  endpoint: URL;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface GetSecretValueInput {
  SecretId: string;
  VersionStage?: string;
  VersionId?: string;
}

export interface GetSecretValueAnswer extends SecretPayload {
  VersionId?: string;
  VersionStages?: string[];
}

/**
 * Settings that change what the SDK client does for a Secrets Manager call with env keys. Any of
 * them set sends the call to the SDK client. AWS_PROFILE makes the SDK skip the env keys.
 */
const SDK_ONLY_ENV = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_AUTH_SCHEME_PREFERENCE',
  'AWS_SIGV4A_SIGNING_REGION_SET',
] as const;

/**
 * Keys of the shared config file that the SDK reads even with env keys (the default profile's
 * endpoint, FIPS, dual-stack and retry settings). Looked for anywhere in the file rather than in
 * the default profile only: a false match merely costs the SDK client.
 */
const SDK_ONLY_CONFIG_KEYS = /^[ \t]*(endpoint_url|services|use_fips_endpoint|use_dualstack_endpoint|max_attempts|retry_mode|auth_scheme_preference|sigv4a_signing_region_set)[ \t]*=/m;

/** The `aws` partition's region pattern (partitions.json in @aws-sdk/util-endpoints); others go to the SDK's rules. */
const AWS_PARTITION_REGION = /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/;

function configFileSetsEndpointOrRetry(env: Env): boolean {
  const file = env.AWS_CONFIG_FILE ?? join(env.HOME ?? homedir(), '.aws', 'config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false; // No config file: the SDK finds nothing there either.
  }
  return SDK_ONLY_CONFIG_KEYS.test(text);
}

/** The region, endpoint and credentials for a call without the SDK client, or undefined when only the SDK client does it faithfully. */
export function leanPlan(options: ConnectionOptions, env: Env): LeanPlan | undefined {
  if (options.awsProfile) return undefined;
  if (SDK_ONLY_ENV.some((name) => env[name] !== undefined)) return undefined;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  // Same order as clientSettings(); without one the SDK looks in the config file or fails itself.
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) return undefined;
  const configured = options.endpointUrl ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  if (configured === undefined && !AWS_PARTITION_REGION.test(region)) return undefined;
  if (configFileSetsEndpointOrRetry(env)) return undefined;
  let endpoint: URL;
  try {
    endpoint = new URL(configured ?? `https://secretsmanager.${region}.amazonaws.com`);
  } catch {
    return undefined; // The SDK's own error for a malformed endpoint variable.
  }
  if (!/^https?:$/.test(endpoint.protocol) || endpoint.search || endpoint.username || endpoint.password) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { region, endpoint, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === 'string' ? Buffer.from(data, 'utf8') : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/**
 * SHA-256 and HMAC-SHA256 for the signer, from node:crypto (already loaded: the cache keys are
 * SHA-256), in the shape @smithy/signature-v4 takes (what @smithy/hash-node does for the SDK).
 */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

/** An error shaped like the SDK's service exceptions, so toClaudeKeyError maps both paths alike. */
class ServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  constructor(name: string, message: string, status: number, requestId: string | undefined, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
    super(message);
    this.name = name;
    this.$fault = fault;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

// Retry rules of the SDK's standard mode: its own error classification (@smithy/core/retry: the
// throttling, transient and clock-skew error codes and statuses), 3 attempts, full-jitter backoff
// from 100 ms, 500 ms after throttling, at most 20 s.
const MAX_ATTEMPTS = 3;
/** The SDK re-signs with the server's clock when the two differ by this much (its isClockSkewed). */
const SKEW_MS = 300_000;

/** The backoff base of a retryable failure (a service error or a socket error); undefined: not retried. */
export function backoffBase(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Parameters<typeof isTransientError>[0];
  if (isThrottlingError(e)) return 500;
  return isTransientError(e) ? 100 : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One POST; rejects with the socket error (ECONNREFUSED …) or the signal's abort. */
async function post(url: URL, path: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Reply> {
  // node:https brings TLS with it: loaded only for an https endpoint.
  const { request: send } = url.protocol === 'http:' ? await import('node:http') : await import('node:https');
  return new Promise((resolve, reject) => {
    // No keep-alive, like the SDK's own agent once the client is destroyed: one call per process.
    const req = send(url, { method: 'POST', path, headers, signal, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The error code as the SDK's JSON protocol reads it: x-amzn-errortype, else the body's code or __type, without namespace and URI parts. */
function errorCode(reply: Reply, parsed: Record<string, unknown> | undefined): string {
  const header = reply.headers['x-amzn-errortype'];
  const raw = (typeof header === 'string' ? header : undefined) ?? parsed?.code ?? parsed?.__type;
  if (typeof raw !== 'string' || raw === '') return `${reply.status}`;
  return raw.split(':')[0]!.split('#').pop()!;
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** GetSecretValue over AWS JSON 1.1, with the SDK's retries and clock-skew correction. */
export async function leanGetSecretValue(plan: LeanPlan, input: GetSecretValueInput, signal: AbortSignal): Promise<GetSecretValueAnswer> {
  if (signal.aborted) throw signal.reason;
  const signer = new SignatureV4({ service: 'secretsmanager', region: plan.region, credentials: plan.credentials, sha256: NodeSha256 });
  const { endpoint } = plan;
  // The SDK appends the operation path "/" to the endpoint's own path.
  const path = endpoint.pathname.endsWith('/') ? endpoint.pathname : `${endpoint.pathname}/`;
  const body = JSON.stringify(input);
  let clockOffset = 0;
  for (let attempt = 1; ; attempt++) {
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path,
        query: {},
        headers: {
          host: endpoint.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'secretsmanager.GetSecretValue',
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      },
      { signingDate: new Date(Date.now() + clockOffset) },
    );
    let reply: Reply;
    try {
      reply = await post(endpoint, path, signed.headers, body, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (backoffBase(err) === undefined || attempt >= MAX_ATTEMPTS) throw err;
      await backoff(err, attempt, signal);
      continue;
    }
    const parsed = parseJson(reply.body);
    if (reply.status >= 200 && reply.status < 300) {
      if (!parsed) throw new ServiceError('DeserializationError', 'the answer is not a JSON object', reply.status, undefined, 'server');
      return answerOf(parsed);
    }
    const requestId = reply.headers['x-amzn-requestid'];
    const message = parsed?.message ?? parsed?.Message;
    const failure = new ServiceError(errorCode(reply, parsed), typeof message === 'string' ? message : '', reply.status, typeof requestId === 'string' ? requestId : undefined);
    const serverDate = Date.parse(String(reply.headers.date ?? ''));
    const skewed = isClockSkewError(failure as Parameters<typeof isClockSkewError>[0]) && Number.isFinite(serverDate) && Math.abs(serverDate - (Date.now() + clockOffset)) >= SKEW_MS;
    if (skewed && attempt < MAX_ATTEMPTS) {
      clockOffset = serverDate - Date.now();
      continue;
    }
    if (backoffBase(failure) === undefined || attempt >= MAX_ATTEMPTS) throw failure;
    await backoff(failure, attempt, signal);
  }
}

/** Full-jitter backoff before attempt + 1. */
function backoff(err: unknown, attempt: number, signal: AbortSignal): Promise<void> {
  const base = backoffBase(err) ?? 100;
  return sleep(Math.random() * Math.min(base * 2 ** (attempt - 1), 20_000), signal);
}

/** The fields the provider uses; SecretBinary travels as base64 in AWS JSON. */
function answerOf(parsed: Record<string, unknown>): GetSecretValueAnswer {
  const { SecretString, SecretBinary, VersionId, VersionStages } = parsed;
  return {
    ...(typeof SecretString === 'string' ? { SecretString } : {}),
    ...(typeof SecretBinary === 'string' ? { SecretBinary: new Uint8Array(Buffer.from(SecretBinary, 'base64')) } : {}),
    ...(typeof VersionId === 'string' ? { VersionId } : {}),
    ...(Array.isArray(VersionStages) ? { VersionStages: VersionStages.filter((s): s is string => typeof s === 'string') } : {}),
  };
}
