// Checks an incoming request's AWS SigV4 Authorization header by signing it again with the known secret key.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** What the server knows about one access key: its secret and, for temporary keys, the session token. */
export interface KnownKey {
  secretAccessKey: string;
  sessionToken?: string;
  /** The identity the key belongs to, as GetCallerIdentity reports it. */
  arn?: string;
  /** Set to make the server answer the documented expired-token error for this key. */
  expired?: boolean;
}

export interface SignedRequest {
  method: string;
  /** Path plus query string, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type VerifyResult =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | { ok: false; reason: 'missing' | 'unknown-key' | 'bad-signature' | 'bad-token' };

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Rebuilds the request from exactly the headers the client says it signed, signs it with the
 * secret we hold for its access key id, and compares signatures in constant time.
 */
export async function verifySigV4(req: SignedRequest, keys: ReadonlyMap<string, KnownKey>): Promise<VerifyResult> {
  const auth = req.headers.authorization;
  const amzDate = req.headers['x-amz-date'];
  const match = typeof auth === 'string' ? AUTH_PATTERN.exec(auth) : null;
  const signingDate = typeof amzDate === 'string' ? parseAmzDate(amzDate) : undefined;
  if (!match || !signingDate) return { ok: false, reason: 'missing' };
  const [, accessKeyId, , region, service, signedHeaderList, signature] = match as unknown as string[];

  const known = keys.get(accessKeyId!);
  if (!known) return { ok: false, reason: 'unknown-key' };
  const presentedToken = req.headers['x-amz-security-token'];
  if (known.sessionToken !== undefined && (typeof presentedToken !== 'string' || !sameText(presentedToken, known.sessionToken))) {
    return { ok: false, reason: 'bad-token' };
  }

  // A signed x-amz-content-sha256 stands in for the body in the canonical request, so it must
  // match the body actually received, or a tampered body would still verify.
  const declaredHash = req.headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && !sameText(String(declaredHash), createHash('sha256').update(req.body).digest('hex'))) {
    return { ok: false, reason: 'bad-signature' };
  }

  const headers: Record<string, string> = {};
  for (const name of signedHeaderList!.split(';')) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url, 'http://placeholder');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  const signer = new SignatureV4({
    service: service!,
    region: region!,
    sha256: Sha256,
    applyChecksum: false,
    credentials: {
      accessKeyId: accessKeyId!,
      secretAccessKey: known.secretAccessKey,
      ...(typeof presentedToken === 'string' ? { sessionToken: presentedToken } : {}),
    },
  });
  const [hostname, port] = (headers.host ?? '').split(':');
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: hostname ?? '',
      ...(port ? { port: Number(port) } : {}),
      path: url.pathname,
      query,
      headers,
      body: req.body,
    },
    { signingDate, signingRegion: region!, signingService: service! },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  if (!sameText(expected, signature!)) return { ok: false, reason: 'bad-signature' };
  return { ok: true, accessKeyId: accessKeyId!, region: region!, service: service! };
}
