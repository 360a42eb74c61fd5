// Official clients (Anthropic, Anthropic Bedrock, Anthropic Vertex, AWS Bedrock Runtime) against a
// gateway made only of this package's functions, in front of Anthropic, Bedrock and Vertex test upstreams.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { BedrockRuntimeClient, InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { signBedrockRequest } from './bedrock-sign.js';
import { UPSTREAM_TEXT } from './test-support/anthropic-fixtures.js';
import { startAnthropicUpstream, type AnthropicUpstream } from './test-support/anthropic-upstream.js';
import { startBedrockEndpoint, type BedrockEndpoint } from './test-support/bedrock-endpoint.js';
import { startFormatGateway } from './test-support/format-gateway.js';
import type { RunningServer } from './test-support/http.js';
import { startVertexEndpoint, type VertexEndpoint } from './test-support/vertex-endpoint.js';
import type { UpstreamKind } from './types.js';
import { authorizeVertexRequest, callerTokenSource } from './vertex-auth.js';

const GATEWAY_KEY = 'gateway-user-key';
const BEDROCK_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const VERTEX_NAME = 'claude-sonnet-4-5@20250929';
const AWS_KEY = { accessKeyId: 'AKIDGATEWAY', secretAccessKey: 'gateway-aws-secret' };
const VERTEX_TOKEN = 'ya29.gateway-token';
const BETA = 'context-management-2025-06-27';

let anthropicUpstream: AnthropicUpstream;
let failingUpstream: AnthropicUpstream;
let midStreamUpstream: AnthropicUpstream;
let bedrockUpstream: BedrockEndpoint;
let bedrockMidStream: BedrockEndpoint;
let vertexUpstream: VertexEndpoint;
const gateways = new Map<string, RunningServer>();

async function gatewayFor(name: string, kind: UpstreamKind, baseUrl: string, awsKey = AWS_KEY): Promise<void> {
  const deployment =
    kind === 'bedrock'
      ? { kind, baseUrl, region: 'us-east-1', model: BEDROCK_ID }
      : kind === 'vertex'
        ? { kind, baseUrl: `${baseUrl}/v1`, region: 'us-east5', project: 'proj-1', model: VERTEX_NAME }
        : { kind, baseUrl, model: 'claude-sonnet-4-5-20250929' };
  gateways.set(
    name,
    await startFormatGateway({
      deployment,
      clientKey: GATEWAY_KEY,
      profiles: [{ id: BEDROCK_ID }],
      authorize: async (request) => {
        if (kind === 'bedrock') return signBedrockRequest(request, { region: 'us-east-1', credentials: awsKey });
        if (kind === 'vertex') return authorizeVertexRequest(request, { headers: async () => ({ authorization: `Bearer ${VERTEX_TOKEN}` }) });
        return { ...request, headers: { ...request.headers, 'x-api-key': 'upstream-anthropic-key' } };
      },
    }),
  );
}

before(async () => {
  anthropicUpstream = await startAnthropicUpstream({ apiKey: 'upstream-anthropic-key' });
  failingUpstream = await startAnthropicUpstream({ apiKey: 'upstream-anthropic-key', failWith: { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } });
  midStreamUpstream = await startAnthropicUpstream({ apiKey: 'upstream-anthropic-key', midStreamError: { after: 4, type: 'overloaded_error', message: 'Overloaded' } });
  const keys = new Map([[AWS_KEY.accessKeyId, { secretAccessKey: AWS_KEY.secretAccessKey }]]);
  bedrockUpstream = await startBedrockEndpoint({ region: 'us-east-1', keys });
  bedrockMidStream = await startBedrockEndpoint({ region: 'us-east-1', keys, midStreamException: { after: 4, exceptionType: 'throttlingException', message: 'Too many tokens, please wait' } });
  vertexUpstream = await startVertexEndpoint({ project: 'proj-1', location: 'us-east5', token: VERTEX_TOKEN });
  await gatewayFor('anthropic', 'anthropic', anthropicUpstream.url);
  await gatewayFor('bedrock', 'bedrock', bedrockUpstream.url);
  await gatewayFor('vertex', 'vertex', vertexUpstream.url);
  await gatewayFor('failing', 'mock', failingUpstream.url);
  await gatewayFor('mid-stream', 'mock', midStreamUpstream.url);
  await gatewayFor('bedrock-mid-stream', 'bedrock', bedrockMidStream.url);
  gateways.set(
    'vertex-client-credentials',
    await startFormatGateway({
      deployment: { kind: 'vertex', baseUrl: `${vertexUpstream.url}/v1`, region: 'us-east5', project: 'proj-1', model: VERTEX_NAME },
      clientKey: GATEWAY_KEY,
      proxyAuthorization: true,
      authorize: (request, callerHeaders) => authorizeVertexRequest(request, callerTokenSource(callerHeaders)),
    }),
  );
  await gatewayFor('bedrock-bad-creds', 'bedrock', bedrockUpstream.url, { ...AWS_KEY, secretAccessKey: 'rotated-away' });
});

after(async () => {
  for (const server of [...gateways.values(), anthropicUpstream, failingUpstream, midStreamUpstream, bedrockUpstream, bedrockMidStream, vertexUpstream]) await server.close();
});

const gw = (name: string) => gateways.get(name)!.url;

function bedrockSdk(gateway: string, key = GATEWAY_KEY) {
  return new AnthropicBedrock({ baseURL: `${gw(gateway)}/bedrock`, awsRegion: 'us-east-1', skipAuth: true, maxRetries: 0, defaultHeaders: { authorization: `Bearer ${key}` } });
}

function vertexSdk(gateway: string, key = GATEWAY_KEY) {
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${key}` }) };
  return new AnthropicVertex({ baseURL: `${gw(gateway)}/vertex_ai/v1`, region: 'us-east5', projectId: 'proj-1', authClient: authClient as never, maxRetries: 0 });
}

function anthropicSdk(gateway: string) {
  return new Anthropic({ baseURL: gw(gateway), apiKey: GATEWAY_KEY, maxRetries: 0 });
}

function awsClient(gateway: string, key = GATEWAY_KEY) {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: `${gw(gateway)}/bedrock`,
    credentials: { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
  // The gateway authenticates its own callers; Claude Code sends the helper's token as a bearer.
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-api-key'] = key;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'gatewayKey' },
  );
  return client;
}

type AnthropicLike = ReturnType<typeof bedrockSdk> | ReturnType<typeof vertexSdk> | ReturnType<typeof anthropicSdk>;

const CLIENTS: Array<[string, (gateway: string) => AnthropicLike, string]> = [
  ['@anthropic-ai/sdk', anthropicSdk, 'claude-opus-4-5-20251101'],
  ['@anthropic-ai/bedrock-sdk', bedrockSdk, BEDROCK_ID],
  ['@anthropic-ai/vertex-sdk', vertexSdk, VERTEX_NAME],
];

function textOf(message: { content: Array<{ type: string; text?: string }> }): string {
  return message.content.map((block) => block.text ?? '').join('');
}

async function streamedText(client: AnthropicLike, model: string): Promise<{ text: string; outputTokens: number }> {
  const stream = await client.messages.create(
    { model, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'anthropic-beta': BETA } },
  );
  let text = '';
  let outputTokens = 0;
  for await (const event of stream) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    if (event.type === 'message_delta') outputTokens = event.usage.output_tokens;
  }
  return { text, outputTokens };
}

for (const upstream of ['anthropic', 'bedrock', 'vertex']) {
  describe(`through a gateway in front of the ${upstream} upstream`, () => {
    for (const [name, make, model] of CLIENTS) {
      test(`${name}: non-streaming`, async () => {
        const message = await make(upstream).messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(textOf(message), UPSTREAM_TEXT);
        assert.equal(message.usage.output_tokens, 7);
      });

      test(`${name}: streaming`, async () => {
        assert.deepEqual(await streamedText(make(upstream), model), { text: UPSTREAM_TEXT, outputTokens: 7 });
      });
    }

    test('@aws-sdk/client-bedrock-runtime: InvokeModel and InvokeModelWithResponseStream', async () => {
      const client = awsClient(upstream);
      const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', anthropic_beta: [BETA], max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
      const invoked = await client.send(new InvokeModelCommand({ modelId: BEDROCK_ID, body, contentType: 'application/json' }));
      assert.equal(textOf(JSON.parse(Buffer.from(invoked.body).toString('utf8'))), UPSTREAM_TEXT);

      const streamed = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: BEDROCK_ID, body, contentType: 'application/json' }));
      let text = '';
      for await (const part of streamed.body!) {
        const event = JSON.parse(Buffer.from(part.chunk!.bytes!).toString('utf8')) as { type: string; delta?: { text?: string } };
        if (event.type === 'content_block_delta') text += event.delta?.text ?? '';
      }
      assert.equal(text, UPSTREAM_TEXT);
    });

    test('count tokens from the Anthropic and Vertex SDKs', async () => {
      for (const [client, model] of [[anthropicSdk(upstream), 'claude-opus-4-5-20251101'], [vertexSdk(upstream), VERTEX_NAME]] as const) {
        const counted = await client.messages.countTokens({ model, messages: [{ role: 'user', content: 'count me' }] });
        assert.equal(counted.input_tokens, 42);
      }
    });
  });
}

test('what each upstream received: betas and versions where that upstream wants them', async () => {
  await streamedText(bedrockSdk('bedrock'), BEDROCK_ID);
  const toBedrock = JSON.parse(bedrockUpstream.requests.at(-1)!.body.toString()) as Record<string, unknown>;
  assert.equal(toBedrock['anthropic_version'], 'bedrock-2023-05-31');
  assert.ok((toBedrock['anthropic_beta'] as string[]).includes(BETA));

  await streamedText(bedrockSdk('vertex'), BEDROCK_ID);
  const toVertex = vertexUpstream.requests.at(-1)!;
  assert.ok(String(toVertex.headers['anthropic-beta']).includes(BETA));
  assert.equal((JSON.parse(toVertex.body.toString()) as Record<string, unknown>)['anthropic_version'], 'vertex-2023-10-16');

  await streamedText(vertexSdk('anthropic'), VERTEX_NAME);
  const toAnthropic = anthropicUpstream.requests.at(-1)!;
  assert.ok(String(toAnthropic.headers['anthropic-beta']).includes(BETA));
  // The Vertex SDK copies its own dated API version into the body; a dated value is kept as the header.
  assert.match(String(toAnthropic.headers['anthropic-version']), /^\d{4}-\d{2}-\d{2}$/);
  assert.equal((JSON.parse(toAnthropic.body.toString()) as Record<string, unknown>)['model'], 'claude-sonnet-4-5-20250929');
});

test('a bad gateway credential is 401 for every client, so Claude Code would re-run its helper', async () => {
  for (const client of [bedrockSdk('anthropic', 'wrong'), vertexSdk('anthropic', 'wrong')]) {
    await assert.rejects(client.messages.create({ model: 'm', max_tokens: 1, messages: [] }), (err: unknown) => err instanceof Anthropic.AuthenticationError);
  }
  await assert.rejects(awsClient('anthropic', 'wrong').send(new InvokeModelCommand({ modelId: BEDROCK_ID, body: '{}' })), (err: unknown) => {
    const e = err as { name: string; $metadata: { httpStatusCode: number } };
    return e.name === 'UnrecognizedClientException' && e.$metadata.httpStatusCode === 401;
  });
});

test('Bedrock refusing the gateway\'s own AWS signature is a 502 for the client, not a 401', async () => {
  await assert.rejects(vertexSdk('bedrock-bad-creds').messages.create({ model: VERTEX_NAME, max_tokens: 1, messages: [] }), (err: unknown) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 502);
    assert.match(err.message, /refused the gateway's credentials \(HTTP 403\)/);
    return true;
  });
});

test('Vertex client-specified credentials: the caller\'s Google token goes upstream, the gateway key rides in Proxy-Authorization', async () => {
  const callerToken = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${VERTEX_TOKEN}` }) };
  const client = new AnthropicVertex({
    baseURL: `${gw('vertex-client-credentials')}/vertex_ai/v1`,
    region: 'us-east5',
    projectId: 'proj-1',
    authClient: callerToken as never,
    maxRetries: 0,
    defaultHeaders: { 'proxy-authorization': `Bearer ${GATEWAY_KEY}` },
  });
  const message = await client.messages.create({ model: VERTEX_NAME, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(textOf(message), UPSTREAM_TEXT);
  assert.equal(vertexUpstream.requests.at(-1)!.headers.authorization, `Bearer ${VERTEX_TOKEN}`);
  assert.equal(vertexUpstream.requests.at(-1)!.headers['proxy-authorization'], undefined);

  const withoutGatewayKey = new AnthropicVertex({ baseURL: `${gw('vertex-client-credentials')}/vertex_ai/v1`, region: 'us-east5', projectId: 'proj-1', authClient: callerToken as never, maxRetries: 0 });
  await assert.rejects(withoutGatewayKey.messages.create({ model: VERTEX_NAME, max_tokens: 5, messages: [] }), (err: unknown) => err instanceof Anthropic.AuthenticationError);

  // The caller's own Google token being refused is theirs to fix: Vertex's 401 passes through.
  const staleToken = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer ya29.expired' }) };
  const stale = new AnthropicVertex({ baseURL: `${gw('vertex-client-credentials')}/vertex_ai/v1`, region: 'us-east5', projectId: 'proj-1', authClient: staleToken as never, maxRetries: 0, defaultHeaders: { 'proxy-authorization': `Bearer ${GATEWAY_KEY}` } });
  await assert.rejects(stale.messages.create({ model: VERTEX_NAME, max_tokens: 5, messages: [] }), (err: unknown) => err instanceof Anthropic.AuthenticationError && /invalid authentication credentials/.test(err.message));
});

test('an upstream 429 reaches each client as its own rate-limit error', async () => {
  await assert.rejects(bedrockSdk('failing').messages.create({ model: BEDROCK_ID, max_tokens: 1, messages: [] }), (err: unknown) => err instanceof Anthropic.RateLimitError);
  await assert.rejects(vertexSdk('failing').messages.create({ model: VERTEX_NAME, max_tokens: 1, messages: [] }), (err: unknown) => err instanceof Anthropic.RateLimitError && /per-minute rate limit/.test(err.message));
  await assert.rejects(awsClient('failing').send(new InvokeModelCommand({ modelId: BEDROCK_ID, body: '{}' })), (err: unknown) => {
    const e = err as { name: string; message: string };
    return e.name === 'ThrottlingException' && /per-minute rate limit/.test(e.message);
  });
});

test('an error after streaming started reaches Bedrock clients as an exception and SSE clients as an error event', async () => {
  const client = awsClient('mid-stream');
  const streamed = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: BEDROCK_ID, body: '{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[]}' }));
  let chunks = 0;
  await assert.rejects(
    (async () => {
      for await (const part of streamed.body!) if (part.chunk) chunks++;
    })(),
    (err: unknown) => (err as Error).name === 'ServiceUnavailableException' && (err as Error).message === 'Overloaded',
  );
  assert.equal(chunks, 4);

  await assert.rejects(streamedText(bedrockSdk('mid-stream'), BEDROCK_ID), (err: unknown) => err instanceof Anthropic.APIError && /Overloaded/.test(err.message));
  await assert.rejects(streamedText(anthropicSdk('bedrock-mid-stream'), 'claude-opus-4-5-20251101'), (err: unknown) => err instanceof Anthropic.APIError && /rate_limit_error/.test(err.message));
});

test('GET /bedrock/inference-profiles answers from the routing table', async () => {
  const res = await fetch(`${gw('anthropic')}/bedrock/inference-profiles?type=SYSTEM_DEFINED`, { headers: { authorization: `Bearer ${GATEWAY_KEY}` } });
  const body = (await res.json()) as { inferenceProfileSummaries: Array<{ inferenceProfileId: string }> };
  assert.deepEqual(body.inferenceProfileSummaries.map((p) => p.inferenceProfileId), [BEDROCK_ID]);
});
