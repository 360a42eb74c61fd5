import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, isRetryable, parseUpstreamError, renderError, typeForStatus, upstreamErrorForClient } from './errors.js';

const json = (buf: Buffer) => JSON.parse(buf.toString()) as unknown;

test('Anthropic shape for Anthropic and Vertex clients, with retry-after', () => {
  for (const format of ['anthropic', 'vertex'] as const) {
    const out = renderError(format, new ApiError(429, 'rate_limit_error', 'slow down', 30));
    assert.equal(out.status, 429);
    assert.equal(out.headers['retry-after'], '30');
    assert.deepEqual(json(out.body), { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
  }
});

test('Bedrock shape: x-amzn-errortype and {"message"}, per type', () => {
  const expected: Array<[ApiError, number, string]> = [
    [new ApiError(400, 'invalid_request_error', 'bad'), 400, 'ValidationException'],
    [new ApiError(403, 'permission_error', 'no'), 403, 'AccessDeniedException'],
    [new ApiError(429, 'rate_limit_error', 'slow'), 429, 'ThrottlingException'],
    [new ApiError(504, 'timeout_error', 'late'), 408, 'ModelTimeoutException'],
    [new ApiError(529, 'overloaded_error', 'busy'), 503, 'ServiceUnavailableException'],
    [new ApiError(500, 'api_error', 'oops'), 500, 'InternalServerException'],
  ];
  for (const [err, status, type] of expected) {
    const out = renderError('bedrock', err);
    assert.equal(out.status, status, type);
    assert.equal(out.headers['x-amzn-errortype'], type);
    assert.deepEqual(json(out.body), { message: err.message });
  }
});

test('an unusable gateway credential is 401 in every format, so Claude Code re-runs its helper', () => {
  const err = new ApiError(401, 'authentication_error', 'token expired');
  for (const format of ['anthropic', 'bedrock', 'vertex'] as const) assert.equal(renderError(format, err).status, 401, format);
  assert.equal(renderError('vertex', err, { vertexShape: 'google' }).status, 401);
});

test('Google shape on request, with 529 as 503', () => {
  const out = renderError('vertex', new ApiError(529, 'overloaded_error', 'busy'), { vertexShape: 'google' });
  assert.equal(out.status, 503);
  assert.deepEqual(json(out.body), { error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } });
});

test('parses Anthropic, Bedrock and Google (plain and array-wrapped) upstream errors', () => {
  const anthropic = parseUpstreamError('anthropic', 529, { 'retry-after': '5' }, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
  assert.deepEqual([anthropic.status, anthropic.type, anthropic.message, anthropic.retryAfter], [529, 'overloaded_error', 'Overloaded', 5]);

  const bedrock = parseUpstreamError('bedrock', 429, { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' }, '{"message":"Too many requests"}');
  assert.deepEqual([bedrock.type, bedrock.message], ['rate_limit_error', 'Too many requests']);
  const byBodyType = parseUpstreamError('bedrock', 400, {}, '{"__type":"com.amazon.coral#ValidationException","Message":"bad"}');
  assert.deepEqual([byBodyType.type, byBodyType.message], ['invalid_request_error', 'bad']);

  const google = parseUpstreamError('vertex', 429, {}, '[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]');
  assert.deepEqual([google.type, google.message], ['rate_limit_error', 'Quota exceeded']);
  const unavailable = parseUpstreamError('vertex', 503, {}, '{"error":{"code":503,"message":"down","status":"UNAVAILABLE"}}');
  assert.equal(unavailable.type, 'overloaded_error');
});

test('an unreadable upstream body falls back to the status and never echoes the body', () => {
  const err = parseUpstreamError('bedrock', 502, {}, '<html>secret-ish gateway page</html>');
  assert.equal(err.type, 'api_error');
  assert.equal(err.message, 'upstream bedrock answered HTTP 502');
  assert.equal(typeForStatus(413), 'request_too_large');
  assert.equal(typeForStatus(418), 'invalid_request_error');
});

test('round trip: a rendered Bedrock error parses back to the same type', () => {
  for (const type of ['invalid_request_error', 'permission_error', 'rate_limit_error', 'timeout_error', 'overloaded_error', 'api_error', 'authentication_error'] as const) {
    const rendered = renderError('bedrock', new ApiError(400, type, 'm'));
    assert.equal(parseUpstreamError('bedrock', rendered.status, rendered.headers, rendered.body).type, type);
  }
});

test('upstream refusals of the gateway\'s own credentials become 502; the caller\'s own pass through', () => {
  const refused = new ApiError(403, 'permission_error', 'User is not authorized to perform: bedrock:InvokeModel');
  const mapped = upstreamErrorForClient(refused);
  assert.deepEqual([mapped.status, mapped.type], [502, 'api_error']);
  assert.ok(!mapped.message.includes('bedrock:InvokeModel'));
  assert.equal(upstreamErrorForClient(refused, { callerCredentials: true }), refused);
  const throttled = new ApiError(429, 'rate_limit_error', 'slow');
  assert.equal(upstreamErrorForClient(throttled), throttled);
});

test('429, 5xx, 529 and timeouts may fall back to another deployment; client errors may not', () => {
  for (const [status, type] of [[429, 'rate_limit_error'], [529, 'overloaded_error'], [500, 'api_error'], [503, 'overloaded_error'], [408, 'timeout_error']] as const) {
    assert.equal(isRetryable(new ApiError(status, type, 'x')), true, `${status}`);
  }
  for (const [status, type] of [[400, 'invalid_request_error'], [401, 'authentication_error'], [404, 'not_found_error'], [413, 'request_too_large']] as const) {
    assert.equal(isRetryable(new ApiError(status, type, 'x')), false, `${status}`);
  }
});
