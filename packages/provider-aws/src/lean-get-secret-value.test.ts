// Which `aws` calls skip the SDK client (leanPlan), and that both paths read the same secrets and
// fail the same way against the SigV4-checking test server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, isClaudeKeyError } from '@claude-key/core';
import { createTestContext } from '@claude-key/core/testing';
import provider from './index.js';
import { backoffBase, leanPlan } from './lean-get-secret-value.js';
import { startAwsTestServer, type AwsTestServer } from './test-support/aws-test-server.js';
import { cleanupAwsEnv, withAwsEnv, writeSharedFiles } from './test-support/aws-env.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_KEY_ID = 'ASIASESSIONEXAMPLE01';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLEsessiontoken';
const TOKEN = 'sk-ant-api03-lean-path';
const keys = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY };

let server: AwsTestServer;
before(async () => {
  server = await startAwsTestServer({
    accessKeys: { [KEY_ID]: SECRET_KEY, [SESSION_KEY_ID]: { secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN } },
    secrets: [
      { name: 'prod/anthropic', versions: [{ versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', stages: ['AWSCURRENT'], string: TOKEN }] },
      { name: 'flaky', error: 'InternalServiceError' },
    ],
  });
});
after(async () => {
  await server.close();
  cleanupAwsEnv();
});

/** Fetches like the engine does and reports whether the signed request went out without the SDK client. */
async function read(raw: Record<string, unknown>, vars: Record<string, string>) {
  return withAwsEnv(vars, async (env) => {
    const ctx = createTestContext({ env });
    const outcome = await provider.fetch(provider.options.parse({ secretId: 'prod/anthropic', ...raw }), ctx).then(
      (credential) => ({ token: credential.token, error: undefined }),
      (error: unknown) => ({ token: undefined, error }),
    );
    return { ...outcome, lean: ctx.logs.some((l) => l.message.includes('without the SDK client')) };
  });
}

describe('leanPlan: the SDK client only where it decides something', () => {
  const env = { ...keys, AWS_REGION: 'eu-west-1', AWS_CONFIG_FILE: '/nonexistent/config' };

  test('env keys and a region: the standard regional endpoint, with the session token when set', () => {
    const plan = leanPlan({}, { ...env, AWS_SESSION_TOKEN: SESSION_TOKEN });
    assert.equal(plan?.endpoint.href, 'https://secretsmanager.eu-west-1.amazonaws.com/');
    assert.deepEqual(plan?.credentials, { accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN });
    assert.equal(leanPlan({ region: 'ap-south-2' }, env)?.region, 'ap-south-2', '--region first, like clientSettings()');
    assert.equal(leanPlan({}, { ...keys, AWS_DEFAULT_REGION: 'us-west-2', AWS_CONFIG_FILE: '/nonexistent/config' })?.region, 'us-west-2');
  });

  test('endpoint from --endpoint-url, then AWS_ENDPOINT_URL_SECRETS_MANAGER, then AWS_ENDPOINT_URL', () => {
    assert.equal(leanPlan({ endpointUrl: 'https://vpce.example/' }, { ...env, AWS_ENDPOINT_URL: 'https://global.example' })?.endpoint.host, 'vpce.example');
    assert.equal(leanPlan({}, { ...env, AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://sm.example', AWS_ENDPOINT_URL: 'https://global.example' })?.endpoint.host, 'sm.example');
    assert.equal(leanPlan({}, { ...env, AWS_ENDPOINT_URL: 'https://global.example' })?.endpoint.host, 'global.example');
  });

  const sdkCases: [string, Parameters<typeof leanPlan>[0], Record<string, string>][] = [
    ['--aws-profile', { awsProfile: 'work' }, env],
    ['AWS_PROFILE (the SDK then skips the env keys)', {}, { ...env, AWS_PROFILE: 'work' }],
    ['no secret key', {}, { AWS_ACCESS_KEY_ID: KEY_ID, AWS_REGION: 'eu-west-1' }],
    ['no region (the SDK looks in the config file)', {}, { ...keys }],
    ['FIPS endpoints', {}, { ...env, AWS_USE_FIPS_ENDPOINT: 'true' }],
    ['dual-stack endpoints', {}, { ...env, AWS_USE_DUALSTACK_ENDPOINT: 'true' }],
    ['another partition (its own DNS suffix)', {}, { ...env, AWS_REGION: 'cn-north-1' }],
    ['a retry setting', {}, { ...env, AWS_MAX_ATTEMPTS: '5' }],
  ];
  for (const [name, options, vars] of sdkCases) {
    test(`SDK client for ${name}`, () => assert.equal(leanPlan(options, vars), undefined));
  }

  test('SDK client when the shared config file sets an endpoint or FIPS, not for a plain one', () => {
    const plain = writeSharedFiles('', '[default]\nregion = eu-west-1\n[profile sso]\nsso_session = corp\n');
    assert.ok(leanPlan({}, { ...env, ...plain }));
    for (const line of ['endpoint_url = https://sm.example', 'use_fips_endpoint = true', 'services = local']) {
      const files = writeSharedFiles('', `[default]\n${line}\n`);
      assert.equal(leanPlan({}, { ...env, ...files }), undefined, line);
    }
  });
});

describe('aws provider: the path without the SDK client against the test server', () => {
  test('env keys with --endpoint-url read without the SDK client, one signed request', async () => {
    const before = server.requests.length;
    const got = await read({ endpointUrl: server.url }, { ...keys, AWS_REGION: 'eu-west-1' });
    assert.deepEqual(got, { token: TOKEN, error: undefined, lean: true });
    assert.deepEqual(server.requests.slice(before), [{ service: 'secretsmanager', action: 'GetSecretValue', accessKeyId: KEY_ID, region: 'eu-west-1', status: 200 }]);
  });

  test('a session token is signed and sent (the server refuses the key without it)', async () => {
    const got = await read({ endpointUrl: server.url }, { AWS_ACCESS_KEY_ID: SESSION_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_SESSION_TOKEN: SESSION_TOKEN, AWS_REGION: 'eu-west-1' });
    assert.deepEqual(got, { token: TOKEN, error: undefined, lean: true });
    const without = await read({ endpointUrl: server.url }, { AWS_ACCESS_KEY_ID: SESSION_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'eu-west-1' });
    assert.ok(isClaudeKeyError(without.error));
    assert.equal(without.error.exitCode, ExitCode.auth);
  });

  test('AWS_ENDPOINT_URL_SECRETS_MANAGER is honoured without the SDK client', async () => {
    const got = await read({}, { ...keys, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url });
    assert.deepEqual(got, { token: TOKEN, error: undefined, lean: true });
  });

  test('an endpoint from the shared config file goes through the SDK client, which honours it', async () => {
    const files = writeSharedFiles('', `[default]\nendpoint_url = ${server.url}\n`);
    const got = await read({}, { ...keys, ...files, AWS_REGION: 'eu-west-1' });
    assert.deepEqual(got, { token: TOKEN, error: undefined, lean: false });
  });

  test('a 500 is retried like the SDK\'s standard mode (3 attempts), then Unreachable', async () => {
    const before = server.requests.length;
    const got = await read({ secretId: 'flaky', endpointUrl: server.url }, { ...keys, AWS_REGION: 'eu-west-1' });
    assert.equal(got.lean, true);
    assert.ok(isClaudeKeyError(got.error));
    assert.equal(got.error.exitCode, ExitCode.unreachable);
    assert.deepEqual(server.requests.slice(before).map((r) => r.status), [500, 500, 500]);
  });

  test('the SDK client makes the same three attempts for a 500', async () => {
    const before = server.requests.length;
    const files = writeSharedFiles('', `[default]\nendpoint_url = ${server.url}\n`);
    const got = await read({ secretId: 'flaky' }, { ...keys, ...files, AWS_REGION: 'eu-west-1' });
    assert.equal(got.lean, false);
    assert.deepEqual(server.requests.slice(before).map((r) => r.status), [500, 500, 500]);
  });
});

describe('backoffBase: what the lean path retries, by the SDK classification (@smithy/core/retry)', () => {
  const service = (name: string, httpStatusCode: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
  test('throttling (by code or 429) backs off from 500 ms, transient codes and 5xx from 100 ms', () => {
    assert.equal(backoffBase(service('ThrottlingException', 400)), 500);
    assert.equal(backoffBase(service('SomethingElse', 429)), 500);
    assert.equal(backoffBase(service('RequestTimeout', 400)), 100);
    assert.equal(backoffBase(service('InternalServiceError', 500)), 100);
    assert.equal(backoffBase(service('ServiceUnavailable', 503)), 100);
  });
  test('socket failures are retried; client errors, aborts and non-errors are not', () => {
    assert.equal(backoffBase(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), 100);
    assert.equal(backoffBase(Object.assign(new Error('dns'), { code: 'EAI_AGAIN' })), 100);
    assert.equal(backoffBase(service('ResourceNotFoundException', 400)), undefined);
    assert.equal(backoffBase(service('AccessDeniedException', 400)), undefined);
    assert.equal(backoffBase(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' })), undefined);
    assert.equal(backoffBase('ECONNRESET'), undefined);
  });
});
