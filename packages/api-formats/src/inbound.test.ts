import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.js';
import { formatOfPath, matchInbound, parseInbound, parseInboundRequest } from './inbound.js';
import { CLAUDE_CODE_BODY } from './test-support/anthropic-fixtures.js';

const BEDROCK_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

function modelRoute(method: string, url: string) {
  const route = matchInbound(method, url);
  assert.ok(route && route.kind === 'model', `expected a model route for ${url}`);
  return route;
}

test('Anthropic Messages at the root and under /anthropic, body byte for byte', () => {
  for (const url of ['/v1/messages?beta=true', '/anthropic/v1/messages']) {
    const body = Buffer.from(CLAUDE_CODE_BODY);
    const request = parseInboundRequest({
      method: 'POST',
      url,
      headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219, interleaved-thinking-2025-05-14' },
      body,
    });
    assert.ok(request);
    assert.equal(request.format, 'anthropic');
    assert.equal(request.model, 'claude-sonnet-4-5-20250929');
    assert.equal(request.stream, true);
    assert.equal(request.countTokens, false);
    assert.equal(request.anthropicVersion, '2023-06-01');
    assert.deepEqual(request.anthropicBeta, ['claude-code-20250219', 'interleaved-thinking-2025-05-14']);
    assert.equal(request.body, body, 'the very same bytes');
  }
});

test('the word "model" inside content is not mistaken for a duplicate key', () => {
  const body = Buffer.from('{"model":"claude-x","messages":[{"role":"user","content":"set \\"model\\": and \\"stream\\" please"}],"metadata":{"model":"y"}}');
  const request = parseInbound(modelRoute('POST', '/v1/messages'), {}, body);
  assert.equal(request.model, 'claude-x');
  assert.equal(request.body, body);
});

test('Anthropic count_tokens is recognised and never streams', () => {
  const route = modelRoute('POST', '/v1/messages/count_tokens?beta=true');
  const request = parseInbound(route, {}, Buffer.from('{"model":"claude-x","stream":true,"messages":[]}'));
  assert.equal(request.countTokens, true);
  assert.equal(request.stream, false);
});

test('Bedrock invoke-with-response-stream: model from the URL, vendor fields moved out, the rest untouched', () => {
  const bedrockBody = '{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["context-management-2025-06-27"],"max_tokens":100,"context_management":{"edits":[]},"messages":[{"role":"user","content":"hi"}]}';
  const route = modelRoute('POST', `/bedrock/model/${BEDROCK_ID}/invoke-with-response-stream`);
  const request = parseInbound(route, { 'anthropic-beta': 'claude-code-20250219,context-management-2025-06-27' }, Buffer.from(bedrockBody));
  assert.equal(request.format, 'bedrock');
  assert.equal(request.model, BEDROCK_ID);
  assert.equal(request.stream, true);
  assert.equal(request.anthropicVersion, 'bedrock-2023-05-31');
  assert.deepEqual(request.anthropicBeta, ['context-management-2025-06-27', 'claude-code-20250219']);
  assert.equal(
    request.body.toString(),
    `{"model":"${BEDROCK_ID}","stream":true,"max_tokens":100,"context_management":{"edits":[]},"messages":[{"role":"user","content":"hi"}]}`,
  );
});

test('Bedrock invoke with a percent-encoded ARN (slashes as %2F) decodes the model id', () => {
  const arn = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${BEDROCK_ID}`;
  const route = modelRoute('POST', `/bedrock/model/${encodeURIComponent(arn)}/invoke`);
  const request = parseInbound(route, {}, Buffer.from('{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[]}'));
  assert.equal(request.model, arn);
  assert.equal(request.stream, false);
  assert.equal(request.body.toString(), `{"model":${JSON.stringify(arn)},"max_tokens":1,"messages":[]}`);
});

test('Bedrock count-tokens unwraps the base64 InvokeModel body', () => {
  const inner = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[{"role":"user","content":"count me"}]}';
  const route = modelRoute('POST', `/bedrock/model/${BEDROCK_ID}/count-tokens`);
  const wrapper = JSON.stringify({ input: { invokeModel: { body: Buffer.from(inner).toString('base64') } } });
  const request = parseInbound(route, {}, Buffer.from(wrapper));
  assert.equal(request.countTokens, true);
  assert.equal(request.body.toString(), `{"model":"${BEDROCK_ID}","max_tokens":1,"messages":[{"role":"user","content":"count me"}]}`);
});

test('GET /bedrock/inference-profiles is its own route and keeps the query', () => {
  const route = matchInbound('GET', '/bedrock/inference-profiles?type=SYSTEM_DEFINED');
  assert.ok(route && route.kind === 'inference-profiles');
  assert.equal(route.query.get('type'), 'SYSTEM_DEFINED');
});

test('a custom Bedrock prefix is honoured', () => {
  const route = matchInbound('POST', `/aws/model/${BEDROCK_ID}/invoke`, { bedrockPrefix: '/aws' });
  assert.ok(route && route.kind === 'model' && route.format === 'bedrock');
  assert.equal(matchInbound('POST', `/bedrock/model/${BEDROCK_ID}/invoke`, { bedrockPrefix: '/aws' }), undefined);
});

test('Vertex streamRawPredict: model, project and location from the URL; beta from the header', () => {
  const body = '{"anthropic_version":"vertex-2023-10-16","max_tokens":5,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]}';
  const route = modelRoute('POST', '/vertex_ai/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict');
  assert.equal(route.project, 'my-proj');
  assert.equal(route.location, 'us-east5');
  const request = parseInbound(route, { 'anthropic-beta': 'claude-code-20250219', 'anthropic-version': '2023-06-01' }, Buffer.from(body));
  assert.equal(request.format, 'vertex');
  assert.equal(request.model, 'claude-sonnet-4-5@20250929');
  assert.equal(request.stream, true);
  assert.equal(request.anthropicVersion, 'vertex-2023-10-16', 'the body field wins over the header');
  assert.deepEqual(request.anthropicBeta, ['claude-code-20250219']);
  assert.equal(request.body.toString(), '{"model":"claude-sonnet-4-5@20250929","max_tokens":5,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]}');
});

test('Vertex rawPredict drops a stray stream field; count-tokens takes the model from the body', () => {
  const raw = modelRoute('POST', '/vertex_ai/v1/projects/p/locations/global/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict');
  const request = parseInbound(raw, {}, Buffer.from('{"anthropic_version":"vertex-2023-10-16","stream":false,"max_tokens":5,"messages":[]}'));
  assert.equal(request.stream, false);
  assert.equal(request.body.toString(), '{"model":"claude-haiku-4-5@20251001","max_tokens":5,"messages":[]}');

  const count = modelRoute('POST', '/vertex_ai/v1/projects/p/locations/global/publishers/anthropic/models/count-tokens:rawPredict');
  const counted = parseInbound(count, {}, Buffer.from('{"anthropic_version":"vertex-2023-10-16","model":"claude-haiku-4-5@20251001","messages":[]}'));
  assert.equal(counted.countTokens, true);
  assert.equal(counted.model, 'claude-haiku-4-5@20251001');
  assert.equal(counted.body.toString(), '{"model":"claude-haiku-4-5@20251001","messages":[]}');
});

test('unknown paths are not ours; formatOfPath names the format by prefix', () => {
  assert.equal(matchInbound('GET', '/healthz'), undefined);
  assert.equal(matchInbound('HEAD', '/'), undefined);
  assert.equal(matchInbound('POST', '/bedrock/model/x/converse'), undefined);
  assert.equal(formatOfPath('/bedrock/model/x/converse'), 'bedrock');
  assert.equal(formatOfPath('/vertex_ai/v1/anything'), 'vertex');
  assert.equal(formatOfPath('/v1/messages'), 'anthropic');
});

test('bad requests are ApiErrors with the right status and type', () => {
  const cases: Array<[() => unknown, number]> = [
    [() => matchInbound('GET', `/bedrock/model/${BEDROCK_ID}/invoke`), 405],
    [() => matchInbound('GET', '/v1/messages'), 405],
    [() => parseInbound(modelRoute('POST', '/v1/messages'), {}, Buffer.from('{"max_tokens":1')), 400],
    [() => parseInbound(modelRoute('POST', '/v1/messages'), {}, Buffer.from('[1,2]')), 400],
    [() => parseInbound(modelRoute('POST', '/v1/messages'), {}, Buffer.from('{"messages":[]}')), 400],
    [() => parseInbound(modelRoute('POST', `/bedrock/model/${BEDROCK_ID}/invoke`), {}, Buffer.from('{"anthropic_beta":"not-an-array"}')), 400],
    [() => parseInbound(modelRoute('POST', `/bedrock/model/${BEDROCK_ID}/count-tokens`), {}, Buffer.from('{"input":{}}')), 400],
    [() => matchInbound('POST', '/bedrock/model/%E0%A4%A/invoke'), 400],
    [() => parseInbound(modelRoute('POST', '/v1/messages'), {}, Buffer.from('{"model":"claude-haiku","max_tokens":1,"model":"claude-opus"}')), 400],
    [() => parseInbound(modelRoute('POST', '/v1/messages'), { 'anthropic-beta': 'ok-1, bad beta' }, Buffer.from('{"model":"m"}')), 400],
    [() => parseInbound(modelRoute('POST', `/bedrock/model/${BEDROCK_ID}/invoke`), {}, Buffer.from('{"anthropic_beta":["x\\r\\nx-injected: 1"]}')), 400],
  ];
  for (const [run, status] of cases) {
    assert.throws(run, (err: unknown) => err instanceof ApiError && err.status === status && err.type === 'invalid_request_error');
  }
});
