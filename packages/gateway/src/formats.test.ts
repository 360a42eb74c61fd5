// Official Bedrock and Vertex clients (and the Anthropic SDK under /anthropic) through the gateway to the mock upstream:
// answers in each client's format, errors in each client's shape, usage attributed to the caller.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { bedrockRuntimeClient, vertexClient } from './test-support/clients.js';
import { startTestGateway, type TestGateway } from './test-support/gateway.js';
import { MOCK_REPLY } from './upstreams/mock.js';

const BEDROCK_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const VERTEX_NAME = 'claude-sonnet-4-5@20250929';
const ANTHROPIC_NAME = 'claude-sonnet-4-6';

describe('Bedrock and Vertex clients through the gateway', () => {
  let t: TestGateway;
  let token: string;

  before(async () => {
    t = await startTestGateway({
      models: [{ name: 'claude-sonnet-4-6', aliases: [ANTHROPIC_NAME, BEDROCK_ID], deployments: [{ upstream: 'mock', model: ANTHROPIC_NAME }] }],
      policies: { teams: { restricted: { models: ['claude-haiku-*'] } } },
    });
    token = await t.issuer.sign({ sub: 'alice', team: 'eng' });
  });
  after(() => t.close());

  const bedrockSdk = (key = token) =>
    new AnthropicBedrock({ baseURL: `${t.url}/bedrock`, awsRegion: 'us-east-1', skipAuth: true, maxRetries: 0, defaultHeaders: { authorization: `Bearer ${key}` } });
  const vertexSdk = (key = token) => vertexClient(t.url, key);
  const awsClient = (key = token) => bedrockRuntimeClient(t.url, key);
  const ask = { max_tokens: 32, messages: [{ role: 'user' as const, content: 'Say hello' }] };

  async function recordFor(format: string): Promise<Record<string, unknown>> {
    await t.gateway.recorder.flush();
    const rows = await t.gateway.store.query<Record<string, unknown>>('SELECT * FROM usage_records WHERE format = $1', [format]);
    return rows.at(-1)!;
  }

  it('@anthropic-ai/bedrock-sdk: JSON and streamed answers, usage for the caller and the deployment that served it', async () => {
    const message = await bedrockSdk().messages.create({ model: BEDROCK_ID, ...ask });
    assert.equal((message.content[0] as { text: string }).text, MOCK_REPLY);
    let text = '';
    for await (const event of await bedrockSdk().messages.create({ model: BEDROCK_ID, ...ask, stream: true })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    assert.equal(text, MOCK_REPLY);
    const sent = t.mock.requests.at(-1)!;
    assert.equal(JSON.parse(sent.body.toString()).model, ANTHROPIC_NAME, 'the Bedrock id reached the group and its deployment');
    const row = await recordFor('bedrock:messages');
    assert.equal(row.user_id, 'alice');
    assert.equal(row.model, 'claude-sonnet-4-6');
    assert.equal(row.deployment, `mock/${ANTHROPIC_NAME}`);
    assert.ok(Number(row.input_tokens) > 0 && Number(row.output_tokens) > 0, 'usage read from the translated stream');
    const audit = await t.gateway.store.query<{ body: string }>('SELECT body FROM audit_log');
    assert.ok(audit.some((r) => JSON.parse(r.body).requestId === row.request_id && JSON.parse(r.body).deployment === `mock/${ANTHROPIC_NAME}`), 'the audit record names the deployment');
  });

  it('@aws-sdk/client-bedrock-runtime: InvokeModel and InvokeModelWithResponseStream (SSE translated to an AWS event stream)', async () => {
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask });
    const plain = await awsClient().send(new InvokeModelCommand({ modelId: BEDROCK_ID, contentType: 'application/json', body }));
    assert.equal(JSON.parse(new TextDecoder().decode(plain.body)).content[0].text, MOCK_REPLY);
    const streamed = await awsClient().send(new InvokeModelWithResponseStreamCommand({ modelId: BEDROCK_ID, contentType: 'application/json', body }));
    const types: string[] = [];
    let text = '';
    for await (const part of streamed.body!) {
      const event = JSON.parse(new TextDecoder().decode(part.chunk!.bytes));
      types.push(event.type);
      if (event.type === 'content_block_delta') text += event.delta.text;
    }
    assert.equal(text, MOCK_REPLY);
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    const sent = JSON.parse(t.mock.requests.at(-1)!.body.toString());
    assert.equal(sent.anthropic_version, undefined, 'the Bedrock body field never reaches a Messages upstream');
    assert.equal(t.mock.requests.at(-1)!.headers['anthropic-version'], '2023-06-01');
  });

  it('@anthropic-ai/vertex-sdk: rawPredict and streamRawPredict with the Vertex model name', async () => {
    const message = await vertexSdk().messages.create({ model: VERTEX_NAME, ...ask });
    assert.equal((message.content[0] as { text: string }).text, MOCK_REPLY);
    const stream = vertexSdk().messages.stream({ model: VERTEX_NAME, ...ask });
    assert.equal(await stream.finalText(), MOCK_REPLY);
    const row = await recordFor('vertex:messages');
    assert.equal(row.user_id, 'alice');
    assert.equal(row.deployment, `mock/${ANTHROPIC_NAME}`);
  });

  it('Anthropic Messages under /anthropic as well as the root', async () => {
    const client = new Anthropic({ baseURL: `${t.url}/anthropic`, apiKey: token, maxRetries: 0 });
    const message = await client.messages.create({ model: ANTHROPIC_NAME, ...ask });
    assert.equal((message.content[0] as { text: string }).text, MOCK_REPLY);
    assert.equal((await recordFor('anthropic:messages')).deployment, `mock/${ANTHROPIC_NAME}`);
  });

  it('a bad gateway credential is 401 in every format, in that format\'s shape', async () => {
    await assert.rejects(bedrockSdk('not-a-token').messages.create({ model: BEDROCK_ID, ...ask }), (err) => err instanceof Anthropic.AuthenticationError);
    await assert.rejects(vertexSdk('not-a-token').messages.create({ model: VERTEX_NAME, ...ask }), (err) => err instanceof Anthropic.AuthenticationError);
    await assert.rejects(
      awsClient('not-a-token').send(new InvokeModelCommand({ modelId: BEDROCK_ID, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask }) })),
      (err: { name: string; $metadata: { httpStatusCode: number } }) => err.name === 'UnrecognizedClientException' && err.$metadata.httpStatusCode === 401,
    );
    const r = await fetch(`${t.url}/bedrock/model/${encodeURIComponent(BEDROCK_ID)}/invoke`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('x-amzn-errortype') ?? '', /^UnrecognizedClientException/);
  });

  it('per-team allowed models apply to the canonical name whatever the spelling: 403 in Bedrock and Vertex shapes', async () => {
    const restricted = await t.issuer.sign({ sub: 'carol', team: 'restricted' });
    await assert.rejects(
      awsClient(restricted).send(new InvokeModelCommand({ modelId: BEDROCK_ID, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask }) })),
      (err: { name: string; message: string }) => err.name === 'AccessDeniedException' && /claude-sonnet-4-6/.test(err.message),
    );
    await assert.rejects(vertexSdk(restricted).messages.create({ model: VERTEX_NAME, ...ask }), (err) => err instanceof Anthropic.PermissionDeniedError);
  });

  it('GET /bedrock/inference-profiles lists the routing table without a credential, as Claude Code asks for it', async () => {
    const r = await fetch(`${t.url}/bedrock/inference-profiles?type=SYSTEM_DEFINED`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { inferenceProfileSummaries: { inferenceProfileId: string }[] };
    assert.deepEqual(
      body.inferenceProfileSummaries.map((p) => p.inferenceProfileId),
      [BEDROCK_ID],
      'the Bedrock spellings in the routing table',
    );
    const withToken = await fetch(`${t.url}/bedrock/inference-profiles?type=SYSTEM_DEFINED`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(await withToken.json(), body, 'the same list whoever asks');
  });

  it('count tokens in Bedrock and Vertex formats', async () => {
    const body = JSON.stringify({ input: { invokeModel: { body: Buffer.from(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask })).toString('base64') } } });
    const r = await fetch(`${t.url}/bedrock/model/${encodeURIComponent(BEDROCK_ID)}/count-tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { inputTokens: number }).inputTokens > 0);
  });
});
