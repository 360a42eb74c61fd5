import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AuthError } from '@claude-key/core';
import { ApiError, parseUpstreamError } from './errors.js';
import { buildUpstreamRequest } from './outbound.js';
import { startGoogleTokenServer, type GoogleTokenServer } from './test-support/google-token-server.js';
import { startVertexEndpoint, type VertexEndpoint } from './test-support/vertex-endpoint.js';
import type { CanonicalRequest, UpstreamRequest } from './types.js';
import { authorizeVertexRequest, callerTokenSource, googleTokenSource } from './vertex-auth.js';

const CLIENT = { clientId: 'client-id.apps.example', clientSecret: 'client-secret-value', refreshToken: 'refresh-token-value' };
const ACCESS_TOKEN = 'ya29.gateway-access-token';

let tokens: GoogleTokenServer;
let vertex: VertexEndpoint;
before(async () => {
  tokens = await startGoogleTokenServer({ ...CLIENT, accessToken: ACCESS_TOKEN });
  vertex = await startVertexEndpoint({ project: 'proj-1', location: 'us-east5', token: ACCESS_TOKEN });
});
after(async () => {
  await tokens.close();
  await vertex.close();
});

function request(): UpstreamRequest {
  const canonical: CanonicalRequest = {
    format: 'anthropic',
    model: 'claude-sonnet-4-5-20250929',
    stream: false,
    countTokens: false,
    anthropicVersion: '2023-06-01',
    anthropicBeta: [],
    body: Buffer.from('{"model":"claude-sonnet-4-5-20250929","max_tokens":10,"messages":[]}'),
  };
  return buildUpstreamRequest(canonical, { kind: 'vertex', baseUrl: `${vertex.url}/v1`, region: 'us-east5', project: 'proj-1', model: 'claude-sonnet-4-5@20250929' });
}

async function send(upstream: UpstreamRequest) {
  const res = await fetch(upstream.url, { method: 'POST', headers: upstream.headers, body: upstream.body });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) };
}

function userCredentials(refreshToken: string) {
  return googleTokenSource({
    credentials: { type: 'authorized_user', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, refresh_token: refreshToken } as never,
    clientOptions: { endpoints: { oauth2TokenUrl: `${tokens.url}/token` } },
  });
}

test('proxy-specified credentials: google-auth-library gets a token and Vertex accepts it; the token is reused', async () => {
  const source = userCredentials(CLIENT.refreshToken);
  const first = await send(await authorizeVertexRequest(request(), source));
  assert.equal(first.status, 200, first.body.toString());
  assert.equal((JSON.parse(first.body.toString()) as { model: string }).model, 'claude-sonnet-4-5@20250929');
  assert.equal(vertex.requests.at(-1)!.headers.authorization, `Bearer ${ACCESS_TOKEN}`);
  await authorizeVertexRequest(request(), source);
  assert.equal(tokens.issued(), 1, 'cached until it expires');
});

test('a revoked refresh token is a one-line AuthError that does not contain the secret', async () => {
  await assert.rejects(userCredentials('revoked-refresh-token').headers(), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.ok(!err.line.includes('revoked-refresh-token') && !err.line.includes(CLIENT.clientSecret));
    assert.ok(!err.line.includes('\n'));
    return true;
  });
});

test('client-specified credentials: the caller\'s own bearer goes upstream unchanged', async () => {
  const upstream = await authorizeVertexRequest(request(), callerTokenSource({ authorization: `Bearer ${ACCESS_TOKEN}`, 'proxy-authorization': 'Bearer gateway-key' }));
  assert.equal(upstream.headers['authorization'], `Bearer ${ACCESS_TOKEN}`);
  assert.equal(upstream.headers['proxy-authorization'], undefined);
  assert.equal((await send(upstream)).status, 200);
});

test('client-specified credentials without a bearer is a 401 ApiError', async () => {
  await assert.rejects(callerTokenSource({}).headers(), (err: unknown) => err instanceof ApiError && err.status === 401 && err.type === 'authentication_error');
});

test('Vertex refusing a token answers in Google\'s shape, read back as authentication_error', async () => {
  const upstream = await authorizeVertexRequest(request(), callerTokenSource({ authorization: 'Bearer wrong-token' }));
  const answer = await send(upstream);
  assert.equal(answer.status, 401);
  const err = parseUpstreamError('vertex', answer.status, answer.headers, answer.body);
  assert.equal(err.type, 'authentication_error');
  assert.match(err.message, /invalid authentication credentials/);
});
