// The gateway in front of a Bedrock endpoint that recomputes SigV4 and a Vertex endpoint that checks the
// bearer; fallback from an overloaded deployment, none once streaming started; per-upstream timeouts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { UPSTREAM_TEXT } from '../../api-formats/src/test-support/anthropic-fixtures.js';
import { startAnthropicUpstream, type AnthropicUpstream } from '../../api-formats/src/test-support/anthropic-upstream.js';
import { startBedrockEndpoint, type BedrockEndpoint } from '../../api-formats/src/test-support/bedrock-endpoint.js';
import { startGoogleTokenServer, type GoogleTokenServer } from '../../api-formats/src/test-support/google-token-server.js';
import { startVertexEndpoint, type VertexEndpoint } from '../../api-formats/src/test-support/vertex-endpoint.js';
import { bedrockRuntimeClient, vertexClient } from './test-support/clients.js';
import { startTestGateway, type TestGateway } from './test-support/gateway.js';
import { MOCK_REPLY } from './upstreams/mock.js';

const BEDROCK_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const VERTEX_NAME = 'claude-sonnet-4-5@20250929';
const ANTHROPIC_NAME = 'claude-sonnet-4-6';
const AWS_KEY = { accessKeyId: 'AKIDGATEWAYTEST', secretAccessKey: 'gateway-aws-secret' };
const GOOGLE = { clientId: 'gw-client', clientSecret: 'gw-client-secret', refreshToken: 'gw-refresh', accessToken: 'ya29.gateway-token' };
const ANTHROPIC_KEY = 'upstream-anthropic-key';
const ask = { max_tokens: 32, messages: [{ role: 'user' as const, content: 'Say hello' }] };

describe('cloud upstreams, fallback and timeouts', () => {
  let bedrock: BedrockEndpoint;
  let vertex: VertexEndpoint;
  let tokens: GoogleTokenServer;
  let overloaded: AnthropicUpstream;
  let midStream: AnthropicUpstream;
  let silent: Server;
  let t: TestGateway;
  let passthrough: TestGateway;
  let token: string;
  const savedEnv = { ...process.env };

  before(async () => {
    bedrock = await startBedrockEndpoint({ region: 'us-east-1', keys: new Map([[AWS_KEY.accessKeyId, { secretAccessKey: AWS_KEY.secretAccessKey }]]) });
    vertex = await startVertexEndpoint({ project: 'proj-1', location: 'us-east5', token: GOOGLE.accessToken });
    tokens = await startGoogleTokenServer(GOOGLE);
    overloaded = await startAnthropicUpstream({ apiKey: ANTHROPIC_KEY, failWith: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    midStream = await startAnthropicUpstream({ apiKey: ANTHROPIC_KEY, midStreamError: { after: 3, type: 'overloaded_error', message: 'Overloaded' } });
    silent = createServer(() => {}); // accepts and never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));

    // Proxy-specified credentials, as in production: AWS from the SDK's own chain (here its env
    // provider), Google from an authorized-user key file through google-auth-library.
    const dir = mkdtempSync(join(tmpdir(), 'ckg-cloud-'));
    const keyFile = join(dir, 'adc.json');
    writeFileSync(keyFile, JSON.stringify({ type: 'authorized_user', client_id: GOOGLE.clientId, client_secret: GOOGLE.clientSecret, refresh_token: GOOGLE.refreshToken }), { mode: 0o600 });
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: AWS_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_KEY.secretAccessKey });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;

    const anthropicAt = (url: string, timeoutMs?: number) => ({ type: 'anthropic' as const, url, apiKey: ANTHROPIC_KEY, ...(timeoutMs ? { timeoutMs } : {}) });
    t = await startTestGateway({
      upstreams: {
        mock: { type: 'mock' },
        bedrock: { type: 'bedrock', region: 'us-east-1', endpoint: bedrock.url },
        vertex: { type: 'vertex', project: 'proj-1', region: 'us-east5', endpoint: `${vertex.url}/v1`, keyFile, tokenUrl: `${tokens.url}/token` },
        overloaded: anthropicAt(overloaded.url),
        midstream: anthropicAt(midStream.url),
        silent: anthropicAt(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, 300),
      },
      models: [
        { name: 'on-bedrock', deployments: [{ upstream: 'bedrock', model: BEDROCK_ID }] },
        { name: 'on-vertex', deployments: [{ upstream: 'vertex', model: VERTEX_NAME }] },
        { name: 'claude-sonnet-4-6', aliases: [ANTHROPIC_NAME], deployments: [{ upstream: 'overloaded', model: ANTHROPIC_NAME, weight: 1 }, { upstream: 'mock', model: ANTHROPIC_NAME, weight: 0 }] },
        { name: 'cut-mid-stream', deployments: [{ upstream: 'midstream', model: ANTHROPIC_NAME, weight: 1 }, { upstream: 'mock', model: ANTHROPIC_NAME, weight: 0 }] },
        { name: 'only-overloaded', deployments: [{ upstream: 'overloaded', model: ANTHROPIC_NAME }] },
        { name: 'never-answers', deployments: [{ upstream: 'silent', model: ANTHROPIC_NAME }] },
      ],
      retry: { attempts: 3, backoffMs: 1 },
    });
    passthrough = await startTestGateway(
      {
        upstreams: { vertex: { type: 'vertex', project: 'proj-1', region: 'us-east5', endpoint: `${vertex.url}/v1`, credentials: 'passthrough' } },
        routes: [{ model: 'claude-*', upstream: 'vertex' }],
        auth: { vertexHeaders: ['proxy-authorization'] },
      },
      { issuer: t.issuer },
    );
    token = await t.issuer.sign({ sub: 'alice', team: 'eng' });
  });
  after(async () => {
    process.env = savedEnv;
    await Promise.all([t.close(), passthrough.close()]);
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
    for (const s of [bedrock, vertex, tokens, overloaded, midStream]) await s.close();
  });

  const anthropic = (gateway = t) => new Anthropic({ baseURL: gateway.url, apiKey: token, maxRetries: 0 });
  const records = async (gateway = t) => {
    await gateway.gateway.recorder.flush();
    return gateway.gateway.store.query<Record<string, unknown>>('SELECT * FROM usage_records ORDER BY ts, request_id');
  };

  it('Bedrock upstream: requests carry a SigV4 signature from the AWS chain that the endpoint recomputes; event stream becomes SSE', async () => {
    const message = await anthropic().messages.create({ model: 'on-bedrock', ...ask });
    assert.equal((message.content[0] as { text: string }).text, UPSTREAM_TEXT);
    assert.equal(await anthropic().messages.stream({ model: 'on-bedrock', ...ask }).finalText(), UPSTREAM_TEXT);
    const sent = bedrock.requests.at(-1)!;
    assert.equal(sent.url, `/model/${encodeURIComponent(BEDROCK_ID)}/invoke-with-response-stream`);
    assert.match(String(sent.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS_KEY.accessKeyId}/`));
    assert.equal(JSON.parse(sent.body.toString()).anthropic_version, 'bedrock-2023-05-31');
    const rows = (await records()).filter((r) => r.model === 'on-bedrock');
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.deployment, `bedrock/${BEDROCK_ID}`);
      assert.ok(Number(row.output_tokens) > 0, 'usage read from the JSON answer and from the translated event stream');
    }
  });

  it('Bedrock client to Bedrock upstream: the event stream passes through and usage is still read', async () => {
    const client = bedrockRuntimeClient(t.url, token);
    const answer = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'on-bedrock', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask }) }));
    let text = '';
    for await (const part of answer.body!) {
      const event = JSON.parse(new TextDecoder().decode(part.chunk!.bytes));
      if (event.type === 'content_block_delta') text += event.delta.text;
    }
    assert.equal(text, UPSTREAM_TEXT);
    const [row, ...more] = (await records()).filter((r) => r.format === 'bedrock:messages');
    assert.equal(more.length, 0);
    assert.ok(Number(row.input_tokens) > 0 && Number(row.output_tokens) > 0);
  });

  it('Vertex upstream: the gateway\'s Google token (google-auth-library, refresh-token grant) is the bearer the endpoint checks', async () => {
    assert.equal(await anthropic().messages.stream({ model: 'on-vertex', ...ask }).finalText(), UPSTREAM_TEXT);
    const sent = vertex.requests.at(-1)!;
    assert.equal(sent.headers.authorization, `Bearer ${GOOGLE.accessToken}`);
    assert.match(sent.url, /\/projects\/proj-1\/locations\/us-east5\/publishers\/anthropic\/models\/claude-sonnet-4-5@20250929:streamRawPredict$/);
    assert.ok(!JSON.stringify(sent.headers).includes(token), 'the caller token never goes upstream');
    assert.equal(tokens.issued(), 1);
  });

  it('Vertex client-specified credentials: the caller\'s Google token goes upstream, the gateway token rides in Proxy-Authorization', async () => {
    const client = (google: string, gatewayToken?: string) =>
      vertexClient(passthrough.url, google, gatewayToken ? { 'proxy-authorization': `Bearer ${gatewayToken}` } : {});
    const message = await client(GOOGLE.accessToken, token).messages.create({ model: VERTEX_NAME, ...ask });
    assert.equal((message.content[0] as { text: string }).text, UPSTREAM_TEXT);
    assert.equal(vertex.requests.at(-1)!.headers.authorization, `Bearer ${GOOGLE.accessToken}`);
    assert.equal(vertex.requests.at(-1)!.headers['proxy-authorization'], undefined);
    assert.deepEqual((await records(passthrough)).map((r) => [r.user_id, r.status]), [['alice', 200]]);
    // No gateway token: 401 from the gateway. The caller's own Google token refused: Vertex's 401 is theirs and passes through.
    await assert.rejects(client(GOOGLE.accessToken).messages.create({ model: VERTEX_NAME, ...ask }), (err) => err instanceof Anthropic.AuthenticationError);
    await assert.rejects(client('ya29.stale', token).messages.create({ model: VERTEX_NAME, ...ask }), (err) => err instanceof Anthropic.AuthenticationError && /invalid authentication credentials/.test(err.message));
  });

  it('falls back from a deployment answering 529 overloaded_error to the next one, and records the one that served', async () => {
    const before = overloaded.requests.length;
    const message = await anthropic().messages.create({ model: ANTHROPIC_NAME, ...ask });
    assert.equal((message.content[0] as { text: string }).text, MOCK_REPLY);
    assert.equal(overloaded.requests.length, before + 1, 'the overloaded deployment was tried first');
    const served = (await records()).filter((r) => r.model === 'claude-sonnet-4-6');
    assert.deepEqual(served.map((r) => [r.status, r.deployment]), [[200, `mock/${ANTHROPIC_NAME}`]]);
  });

  it('retries with backoff and then answers the upstream\'s own error in the client\'s shape', async () => {
    const before = overloaded.requests.length;
    await assert.rejects(anthropic().messages.create({ model: 'only-overloaded', ...ask }), (err) => err instanceof Anthropic.APIError && err.status === 529);
    assert.equal(overloaded.requests.length, before + 3, 'retry.attempts tries');
  });

  it('does not fall back once streaming has started: the client gets the error event', async () => {
    const mockBefore = t.mock.count;
    const stream = anthropic().messages.stream({ model: 'cut-mid-stream', ...ask });
    await assert.rejects(stream.finalText(), (err: Error) => /Overloaded/.test(err.message));
    const client = bedrockRuntimeClient(t.url, token);
    const answer = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'cut-mid-stream', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', ...ask }) }));
    const chunks: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const part of answer.body!) chunks.push(new TextDecoder().decode(part.chunk!.bytes));
      })(),
      (err: Error) => err.name === 'ServiceUnavailableException' || /Overloaded/.test(err.message),
    );
    assert.ok(chunks.length > 0, 'events arrived before the exception');
    assert.equal(t.mock.count, mockBefore, 'the fallback deployment was never asked');
  });

  it('a deployment that does not answer within its upstream timeout is a 504 timeout_error', async () => {
    await assert.rejects(anthropic().messages.create({ model: 'never-answers', ...ask }), (err) => err instanceof Anthropic.APIError && err.status === 504);
  });
});
