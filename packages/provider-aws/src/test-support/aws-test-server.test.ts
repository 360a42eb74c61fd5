// The test server itself: it must reject what real AWS rejects, or the provider tests prove nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { startAwsTestServer, type AwsTestServer } from './aws-test-server.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
let server: AwsTestServer;
before(async () => {
  server = await startAwsTestServer({ accessKeys: { [KEY_ID]: SECRET_KEY }, secrets: [{ name: 's', versions: [{ versionId: 'v', stages: ['AWSCURRENT'], string: 'x' }] }] });
});
after(() => server.close());

async function signedRequest(body: string, secretAccessKey = SECRET_KEY) {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service: 'secretsmanager', region: 'us-east-1', sha256: Sha256, credentials: { accessKeyId: KEY_ID, secretAccessKey } });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body,
  });
  return signed.headers;
}

const post = (headers: Record<string, string>, body: string) => fetch(server.url, { method: 'POST', headers, body });

test('a correctly signed request is answered; the same signature over a changed body is InvalidSignatureException', async () => {
  const body = JSON.stringify({ SecretId: 's' });
  const headers = await signedRequest(body);
  const good = await post(headers, body);
  assert.equal(good.status, 200);
  assert.equal(((await good.json()) as { SecretString: string }).SecretString, 'x');

  const tampered = await post(headers, JSON.stringify({ SecretId: 't' }));
  assert.equal(tampered.status, 400);
  assert.equal(tampered.headers.get('x-amzn-errortype')?.split(':')[0], 'InvalidSignatureException');
  assert.equal(((await tampered.json()) as { __type: string }).__type, 'InvalidSignatureException');
});

test('an unsigned request gets MissingAuthenticationTokenException and a wrong key InvalidSignatureException', async () => {
  const body = JSON.stringify({ SecretId: 's' });
  const unsigned = await post({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' }, body);
  assert.equal(((await unsigned.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  const wrong = await post(await signedRequest(body, 'another-secret-key'), body);
  assert.equal(((await wrong.json()) as { __type: string }).__type, 'InvalidSignatureException');
});

test('STS errors use the ErrorResponse XML shape', async () => {
  const res = await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'Action=GetCallerIdentity&Version=2011-06-15');
  assert.equal(res.status, 403);
  assert.match(await res.text(), /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/);
});

test('every request is recorded, so tests can assert that a cached call made none', () => {
  assert.equal(server.requests.length, 5);
  assert.deepEqual(server.requests.map((r) => r.status), [200, 400, 400, 400, 403]);
});
