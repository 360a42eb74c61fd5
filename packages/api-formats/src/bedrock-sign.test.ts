import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { AuthError } from '@claude-key/core';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsCredentialChain, signBedrockRequest } from './bedrock-sign.js';
import { buildUpstreamRequest } from './outbound.js';
import { startBedrockEndpoint, type BedrockEndpoint } from './test-support/bedrock-endpoint.js';
import type { CanonicalRequest, UpstreamRequest } from './types.js';

const SIGNED_AT = new Date('2026-11-23T10:00:00Z');
const KEYS = new Map([
  ['AKIDPERMANENT', { secretAccessKey: 'permanent-secret-key' }],
  ['ASIATEMPORARY', { secretAccessKey: 'temporary-secret-key', sessionToken: 'session-token-value' }],
]);
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

let endpoint: BedrockEndpoint;
before(async () => {
  endpoint = await startBedrockEndpoint({ region: 'us-west-2', keys: KEYS, now: () => SIGNED_AT });
});
after(() => endpoint.close());

function canonical(): CanonicalRequest {
  return {
    format: 'anthropic',
    model: 'claude-sonnet-4-5-20250929',
    stream: false,
    countTokens: false,
    anthropicVersion: '2023-06-01',
    anthropicBeta: ['context-management-2025-06-27'],
    body: Buffer.from('{"model":"claude-sonnet-4-5-20250929","max_tokens":10,"messages":[{"role":"user","content":"héllo"}]}'),
  };
}

async function send(request: UpstreamRequest): Promise<{ status: number; errorType: string | null; json: Record<string, unknown> }> {
  const { host: _host, ...headers } = request.headers;
  const res = await fetch(request.url, { method: request.method, headers, body: request.body });
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), json: (await res.json()) as Record<string, unknown> };
}

function unsigned(): UpstreamRequest {
  return buildUpstreamRequest(canonical(), { kind: 'bedrock', baseUrl: endpoint.url, region: 'us-west-2', model: MODEL });
}

test('a signed request passes an independent SigV4 check and reaches the model', async () => {
  const signed = await signBedrockRequest(unsigned(), {
    region: 'us-west-2',
    credentials: { accessKeyId: 'AKIDPERMANENT', secretAccessKey: 'permanent-secret-key' },
    signingDate: SIGNED_AT,
  });
  assert.match(signed.headers['authorization']!, /^AWS4-HMAC-SHA256 Credential=AKIDPERMANENT\/20261123\/us-west-2\/bedrock\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/);
  const answer = await send(signed);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.json['model'], MODEL);
  assert.equal(endpoint.requests.at(-1)!.url, '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
});

test('temporary credentials send their session token, from a provider function', async () => {
  const signed = await signBedrockRequest(unsigned(), {
    region: 'us-west-2',
    credentials: async () => ({ accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret-key', sessionToken: 'session-token-value' }),
    signingDate: SIGNED_AT,
  });
  assert.equal(signed.headers['x-amz-security-token'], 'session-token-value');
  assert.equal((await send(signed)).status, 200);
});

test('a wrong secret, a changed body or a changed path is refused with Bedrock\'s 403', async () => {
  const options = { region: 'us-west-2', signingDate: SIGNED_AT };
  const wrongSecret = await signBedrockRequest(unsigned(), { ...options, credentials: { accessKeyId: 'AKIDPERMANENT', secretAccessKey: 'guess' } });
  const good = await signBedrockRequest(unsigned(), { ...options, credentials: { accessKeyId: 'AKIDPERMANENT', secretAccessKey: 'permanent-secret-key' } });
  const changedBody = { ...good, body: Buffer.from(good.body.toString().replace('héllo', 'hello')) };
  const changedPath = { ...good, url: good.url.replace('sonnet', 'opus') };
  for (const request of [wrongSecret, changedBody, changedPath]) {
    const answer = await send(request);
    assert.equal(answer.status, 403);
    assert.equal(answer.errorType?.split(':')[0], 'InvalidSignatureException');
  }
  const unknownKey = await signBedrockRequest(unsigned(), { ...options, credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
  assert.equal((await send(unknownKey)).errorType?.split(':')[0], 'UnrecognizedClientException');
});

test('the test endpoint also accepts the official AWS SDK\'s own signature (the check is faithful)', async () => {
  const client = new BedrockRuntimeClient({
    region: 'us-west-2',
    endpoint: endpoint.url,
    credentials: { accessKeyId: 'AKIDPERMANENT', secretAccessKey: 'permanent-secret-key' },
    systemClockOffset: SIGNED_AT.getTime() - Date.now(),
    // The client defaults to HTTP/2; the loopback test server speaks HTTP/1.1.
    requestHandler: new NodeHttpHandler(),
  });
  const answer = await client.send(
    new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 5, messages: [] }) }),
  );
  assert.equal(JSON.parse(Buffer.from(answer.body).toString())['model'], MODEL);
});

test('awsCredentialChain reads the environment, and fails with a one-line AuthError when nothing is configured', async () => {
  const saved = { ...process.env };
  try {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDPERMANENT',
      AWS_SECRET_ACCESS_KEY: 'permanent-secret-key',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    });
    delete process.env['AWS_PROFILE'];
    delete process.env['AWS_SESSION_TOKEN'];
    const signed = await signBedrockRequest(unsigned(), { region: 'us-west-2', credentials: awsCredentialChain(), signingDate: SIGNED_AT });
    assert.equal((await send(signed)).status, 200);

    delete process.env['AWS_ACCESS_KEY_ID'];
    delete process.env['AWS_SECRET_ACCESS_KEY'];
    await assert.rejects(awsCredentialChain()(), (err: unknown) => {
      assert.ok(err instanceof AuthError);
      assert.match(err.line, /^no usable AWS credentials for Bedrock \(.+\); configure the AWS credential chain/);
      assert.ok(!err.line.includes('\n'));
      return true;
    });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
});
