import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@claude-key/core';
import { parseInbound, matchInbound } from './inbound.js';
import { anthropicVersionFor, buildUpstreamRequest } from './outbound.js';
import { CLAUDE_CODE_BODY } from './test-support/anthropic-fixtures.js';
import type { CanonicalRequest } from './types.js';

function anthropicRequest(overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    format: 'anthropic',
    model: 'claude-sonnet-4-5-20250929',
    stream: true,
    countTokens: false,
    anthropicVersion: '2023-06-01',
    anthropicBeta: ['claude-code-20250219', 'context-management-2025-06-27'],
    body: Buffer.from(CLAUDE_CODE_BODY),
    ...overrides,
  };
}

test('Anthropic upstream: same body bytes when the model matches, headers carry version and betas', () => {
  const request = anthropicRequest();
  const upstream = buildUpstreamRequest(request, { kind: 'anthropic', baseUrl: 'https://api.anthropic.com/', model: 'claude-sonnet-4-5-20250929' });
  assert.equal(upstream.url, 'https://api.anthropic.com/v1/messages');
  assert.equal(upstream.body, request.body);
  assert.equal(upstream.headers['anthropic-version'], '2023-06-01');
  assert.equal(upstream.headers['anthropic-beta'], 'claude-code-20250219,context-management-2025-06-27');
  assert.equal(upstream.responseType, 'sse');
});

test('Anthropic upstream: a different deployment model is edited in place, nothing else moves', () => {
  const upstream = buildUpstreamRequest(anthropicRequest(), { kind: 'mock', baseUrl: 'http://127.0.0.1:1', model: 'claude-opus-4-1' });
  assert.equal(upstream.body.toString(), CLAUDE_CODE_BODY.replace('"claude-sonnet-4-5-20250929"', '"claude-opus-4-1"'));
});

test('a Bedrock or Vertex client version is replaced by a dated one for the Anthropic API', () => {
  assert.equal(anthropicVersionFor('anthropic', 'bedrock-2023-05-31'), '2023-06-01');
  assert.equal(anthropicVersionFor('anthropic', undefined), '2023-06-01');
  assert.equal(anthropicVersionFor('bedrock', '2023-06-01'), 'bedrock-2023-05-31');
  assert.equal(anthropicVersionFor('bedrock', 'bedrock-2023-05-31'), 'bedrock-2023-05-31');
  assert.equal(anthropicVersionFor('vertex', 'bedrock-2023-05-31'), 'vertex-2023-10-16');
  assert.equal(anthropicVersionFor('vertex', undefined, 'vertex-2099-01-01'), 'vertex-2099-01-01');
});

test('Bedrock upstream: model in the URL, anthropic_version/anthropic_beta in the body, no model or stream', () => {
  const upstream = buildUpstreamRequest(anthropicRequest(), { kind: 'bedrock', region: 'eu-west-1', model: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0' });
  assert.equal(upstream.url, 'https://bedrock-runtime.eu-west-1.amazonaws.com/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream');
  assert.equal(upstream.responseType, 'eventstream');
  assert.equal(upstream.headers['anthropic-beta'], undefined);
  const body = JSON.parse(upstream.body.toString()) as Record<string, unknown>;
  assert.equal(body['anthropic_version'], 'bedrock-2023-05-31');
  assert.deepEqual(body['anthropic_beta'], ['claude-code-20250219', 'context-management-2025-06-27']);
  assert.ok(!('model' in body) && !('stream' in body));
  assert.ok(upstream.body.toString().includes('"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}'));
});

test('Bedrock client to Bedrock upstream keeps the original body apart from the vendor fields moving first', () => {
  const original = '{"max_tokens":100,"anthropic_version":"bedrock-2023-05-31","messages":[{"role":"user","content":"hi"}],"anthropic_beta":["x-1"]}';
  const route = matchInbound('POST', '/bedrock/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/invoke');
  assert.ok(route && route.kind === 'model');
  const canonical = parseInbound(route, {}, Buffer.from(original));
  const upstream = buildUpstreamRequest(canonical, { kind: 'bedrock', baseUrl: 'http://127.0.0.1:9', model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0' });
  assert.equal(upstream.url, 'http://127.0.0.1:9/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke');
  assert.equal(upstream.body.toString(), '{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["x-1"],"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}');
});

test('Bedrock count-tokens wraps the InvokeModel body in base64', () => {
  const request = anthropicRequest({ countTokens: true, stream: false, anthropicBeta: [], body: Buffer.from('{"model":"m","messages":[]}') });
  const upstream = buildUpstreamRequest(request, { kind: 'bedrock', region: 'us-east-1', model: 'anthropic.claude-haiku-4-5-20251001-v1:0' });
  assert.match(upstream.url, /\/count-tokens$/);
  const wrapper = JSON.parse(upstream.body.toString()) as { input: { invokeModel: { body: string } } };
  assert.equal(Buffer.from(wrapper.input.invokeModel.body, 'base64').toString(), '{"anthropic_version":"bedrock-2023-05-31","messages":[]}');
});

test('Vertex upstream: streamRawPredict URL, stream kept in the body, beta header, version in the body', () => {
  const upstream = buildUpstreamRequest(anthropicRequest(), { kind: 'vertex', region: 'us-east5', project: 'proj-1', model: 'claude-sonnet-4-5@20250929' });
  assert.equal(upstream.url, 'https://us-east5-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict');
  assert.equal(upstream.headers['anthropic-beta'], 'claude-code-20250219,context-management-2025-06-27');
  assert.equal(upstream.headers['anthropic-version'], undefined);
  const body = JSON.parse(upstream.body.toString()) as Record<string, unknown>;
  assert.equal(body['anthropic_version'], 'vertex-2023-10-16');
  assert.equal(body['stream'], true);
  assert.ok(!('model' in body));
});

test('Vertex upstream: global location and count-tokens with the model in the body', () => {
  const request = anthropicRequest({ countTokens: true, stream: false, body: Buffer.from('{"model":"claude-x","messages":[]}') });
  const upstream = buildUpstreamRequest(request, { kind: 'vertex', region: 'global', project: 'p', model: 'claude-haiku-4-5@20251001' });
  assert.equal(upstream.url, 'https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/count-tokens:rawPredict');
  assert.equal(upstream.body.toString(), '{"anthropic_version":"vertex-2023-10-16","model":"claude-haiku-4-5@20251001","messages":[]}');
});

test('an incomplete deployment is a ConfigError naming the missing field', () => {
  assert.throws(() => buildUpstreamRequest(anthropicRequest(), { kind: 'vertex', region: 'us-east5', model: 'm' }), (err: unknown) => err instanceof ConfigError && /project/.test(err.message));
  assert.throws(() => buildUpstreamRequest(anthropicRequest(), { kind: 'bedrock', model: 'm' }), (err: unknown) => err instanceof ConfigError && /region/.test(err.message));
  assert.throws(() => buildUpstreamRequest(anthropicRequest(), { kind: 'anthropic', model: 'm' }), (err: unknown) => err instanceof ConfigError && /baseUrl/.test(err.message));
});
