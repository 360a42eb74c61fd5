// A loopback stand-in for AWS Secrets Manager and STS that checks SigV4 signatures and counts requests (tests only).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleSecretsManager, jsonError, type SecretFixture } from './secrets-manager-handler.js';
import { handleSts, stsError, UNSIGNED_STS_ACTIONS, type RoleFixture } from './sts-handler.js';
import { verifySigV4, type KnownKey } from './sigv4-verifier.js';

export type { SecretFixture, SecretVersionFixture } from './secrets-manager-handler.js';
export type { RoleFixture } from './sts-handler.js';
export type { KnownKey } from './sigv4-verifier.js';

export interface AwsTestServerOptions {
  /** Long-term access keys the server accepts: access key id -> secret (or full key record). */
  accessKeys: Record<string, string | KnownKey>;
  secrets?: SecretFixture[];
  roles?: RoleFixture[];
  /** Clock for STS Expiration values (default Date.now). */
  now?: () => number;
}

/** One request as the server saw it, for assertions. */
export interface RecordedRequest {
  service: 'secretsmanager' | 'sts' | 'unknown';
  /** `GetSecretValue`, `AssumeRole`, ... */
  action: string;
  /** The verified signer, when the request was signed and verified. */
  accessKeyId?: string;
  region?: string;
  /** The outcome: 200, or the error status sent. */
  status: number;
  errorCode?: string;
}

export interface AwsTestServer {
  /** `http://127.0.0.1:<port>`: pass as endpointUrl / --endpoint-url. */
  url: string;
  requests: RecordedRequest[];
  /** Access keys (including ones STS minted) the server currently accepts. */
  keys: Map<string, KnownKey>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: { status: number; headers: Record<string, string>; body: string }): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

const JSON_AUTH_ERROR = {
  missing: 'MissingAuthenticationTokenException',
  'unknown-key': 'UnrecognizedClientException',
  'bad-token': 'UnrecognizedClientException',
  'bad-signature': 'InvalidSignatureException',
} as const;
const STS_AUTH_ERROR = {
  missing: 'MissingAuthenticationToken',
  'unknown-key': 'InvalidClientTokenId',
  'bad-token': 'InvalidClientTokenId',
  'bad-signature': 'SignatureDoesNotMatch',
} as const;

const errorCodeOf = (body: string) => /"__type":"([^"]+)"/.exec(body)?.[1] ?? /<Code>([^<]+)<\/Code>/.exec(body)?.[1];

/** Starts the server on 127.0.0.1 with an ephemeral port. */
export async function startAwsTestServer(options: AwsTestServerOptions): Promise<AwsTestServer> {
  const keys = new Map<string, KnownKey>(
    Object.entries(options.accessKeys).map(([id, k]) => [id, typeof k === 'string' ? { secretAccessKey: k } : k]),
  );
  const secrets = new Map((options.secrets ?? []).map((s) => [s.name, s]));
  const roles = new Map((options.roles ?? []).map((r) => [r.arn, r]));
  const stsState = { keys, roles, now: options.now ?? Date.now };
  const requests: RecordedRequest[] = [];

  async function route(req: IncomingMessage): Promise<{ reply: { status: number; headers: Record<string, string>; body: string }; record: Omit<RecordedRequest, 'status' | 'errorCode'> }> {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const isSts = contentType === 'application/x-www-form-urlencoded';
    const service = typeof target === 'string' && target.startsWith('secretsmanager.') ? 'secretsmanager' : isSts ? 'sts' : 'unknown';
    const params = isSts ? new URLSearchParams(body.toString('utf8')) : undefined;
    const action = service === 'secretsmanager' ? String(target).slice('secretsmanager.'.length) : (params?.get('Action') ?? '');
    if (req.method !== 'POST' || service === 'unknown') return { reply: jsonError('UnknownOperationException'), record: { service, action } };

    const unsigned = service === 'sts' && UNSIGNED_STS_ACTIONS.has(action) && req.headers.authorization === undefined;
    if (unsigned) return { reply: handleSts(params!, undefined, stsState), record: { service, action } };

    const verified = await verifySigV4({ method: req.method, url: req.url ?? '/', headers: req.headers, body }, keys);
    if (!verified.ok) {
      const reply = service === 'sts' ? stsError(STS_AUTH_ERROR[verified.reason]) : jsonError(JSON_AUTH_ERROR[verified.reason]);
      return { reply, record: { service, action } };
    }
    const record = { service, action, accessKeyId: verified.accessKeyId, region: verified.region } as const;
    const key = keys.get(verified.accessKeyId)!;
    if (key.expired) return { reply: service === 'sts' ? stsError('ExpiredToken') : jsonError('ExpiredTokenException'), record };
    const reply =
      service === 'sts'
        ? handleSts(params!, { accessKeyId: verified.accessKeyId, key }, stsState)
        : handleSecretsManager(typeof target === 'string' ? target : undefined, contentType, body, secrets, verified.region, key.arn);
    return { reply, record };
  }

  const server = createServer((req, res) => {
    route(req).then(
      ({ reply, record }) => {
        const errorCode = reply.status === 200 ? undefined : errorCodeOf(reply.body);
        requests.push({ ...record, status: reply.status, ...(errorCode ? { errorCode } : {}) });
        send(res, reply);
      },
      () => {
        requests.push({ service: 'unknown', action: '', status: 500 });
        send(res, jsonError('InternalServiceError'));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    keys,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
