// Recomputes an AWS SigV4 signature from first principles (node:crypto, following AWS's published
// algorithm) so a test can check a signature without trusting the library that made it.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface KnownKey {
  secretAccessKey: string;
  sessionToken?: string;
}

export type SigV4Verdict =
  | { ok: true; accessKeyId: string; region: string; service: string; signedHeaders: string[] }
  | { ok: false; errorType: 'MissingAuthenticationTokenException' | 'UnrecognizedClientException' | 'InvalidSignatureException'; message: string };

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** RFC 3986 encoding: everything but unreserved characters, with upper-case hex. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Non-S3 services sign the path as sent, each segment encoded once more. */
function canonicalUri(path: string): string {
  return path.split('/').map(rfc3986).join('/') || '/';
}

function canonicalQuery(query: string): string {
  const params = new URLSearchParams(query);
  const pairs: Array<[string, string]> = [];
  params.forEach((value, key) => pairs.push([rfc3986(key), rfc3986(value)]));
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface VerifyInput {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function verifySigV4(request: VerifyInput, keys: ReadonlyMap<string, KnownKey>, now: Date): SigV4Verdict {
  const authorization = single(request.headers, 'authorization');
  const amzDate = single(request.headers, 'x-amz-date');
  if (!authorization || !amzDate) {
    return { ok: false, errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  const match = AUTHORIZATION.exec(authorization);
  if (!match) return { ok: false, errorType: 'InvalidSignatureException', message: 'Authorization header is malformed' };
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match as unknown as string[];
  const key = keys.get(accessKeyId!);
  if (!key) return { ok: false, errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (key.sessionToken !== undefined && single(request.headers, 'x-amz-security-token') !== key.sessionToken) {
    return { ok: false, errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (!amzDate.startsWith(date!) || Math.abs(now.getTime() - signedAt) > 5 * 60_000) {
    return { ok: false, errorType: 'InvalidSignatureException', message: 'Signature expired' };
  }
  const bodyHash = sha256Hex(request.body);
  const claimedHash = single(request.headers, 'x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== bodyHash) {
    return { ok: false, errorType: 'InvalidSignatureException', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) return { ok: false, errorType: 'InvalidSignatureException', message: 'host must be signed' };
  const [path, query = ''] = request.url.split('?', 2) as [string, string?];
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(single(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [request.method, canonicalUri(path), canonicalQuery(query), canonicalHeaders, signedHeaderList, bodyHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  if (!same(expected, signature!)) {
    return {
      ok: false,
      errorType: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { ok: true, accessKeyId: accessKeyId!, region: region!, service: service!, signedHeaders };
}
