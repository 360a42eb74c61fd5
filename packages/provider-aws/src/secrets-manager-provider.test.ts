// The `aws` provider with the real AWS SDK against the SigV4-checking Secrets Manager test server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExitCode, isClaudeKeyError, type ClaudeKeyError } from '@claude-key/core';
import { checkProviderContract, createTestContext } from '@claude-key/core/testing';
import provider from './index.js';
import { startAwsTestServer, type AwsTestServer } from './test-support/aws-test-server.js';
import { cleanupAwsEnv, withAwsEnv, writeSharedFiles } from './test-support/aws-env.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const PROFILE_KEY_ID = 'AKIAPROFILEEXAMPLE01';
const PROFILE_SECRET_KEY = 'profile/secret/key/EXAMPLE+0123456789abcd';
const TOKEN = 'sk-ant-api03-current-secret-value';
const PREVIOUS = 'sk-ant-api03-previous-secret-value';
const JSON_SECRET = JSON.stringify({ apiKey: 'sk-ant-api03-from-json', owner: 'platform', port: 8443 });
const CURRENT_ID = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const PREVIOUS_ID = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE22222';
const WEB_ROLE = 'arn:aws:iam::123456789012:role/ci';
const WEB_IDENTITY_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln';
const ALL_SECRET_TEXT = [WEB_IDENTITY_TOKEN, SECRET_KEY, PROFILE_SECRET_KEY, TOKEN, PREVIOUS, 'sk-ant-api03-from-json'];

let server: AwsTestServer;
before(async () => {
  server = await startAwsTestServer({
    accessKeys: {
      [KEY_ID]: SECRET_KEY,
      [PROFILE_KEY_ID]: PROFILE_SECRET_KEY,
      AKIAEXPIREDEXAMPLE01: { secretAccessKey: SECRET_KEY, expired: true },
    },
    roles: [{ arn: WEB_ROLE, webIdentityTokens: [WEB_IDENTITY_TOKEN] }],
    secrets: [
      {
        name: 'prod/anthropic',
        versions: [
          { versionId: CURRENT_ID, stages: ['AWSCURRENT'], string: TOKEN },
          { versionId: PREVIOUS_ID, stages: ['AWSPREVIOUS'], string: PREVIOUS },
        ],
      },
      { name: 'prod/llm-json', versions: [{ versionId: CURRENT_ID, stages: ['AWSCURRENT'], string: JSON_SECRET }] },
      { name: 'bin/text', versions: [{ versionId: CURRENT_ID, stages: ['AWSCURRENT'], binary: Buffer.from('sk-ant-binary-text\n') }] },
      { name: 'bin/raw', versions: [{ versionId: CURRENT_ID, stages: ['AWSCURRENT'], binary: Uint8Array.from([0xff, 0x00, 0x10, 0x80]) }] },
      { name: 'multi-line', versions: [{ versionId: CURRENT_ID, stages: ['AWSCURRENT'], string: 'line one\nline two' }] },
      { name: 'regional/us', region: 'us-east-1', versions: [{ versionId: CURRENT_ID, stages: ['AWSCURRENT'], string: TOKEN }] },
      { name: 'denied', error: 'AccessDeniedException' },
      { name: 'kms-broken', error: 'DecryptionFailure' },
      { name: 'flaky', error: 'InternalServiceError' },
      { name: 'deleted', error: 'InvalidRequestException' },
      { name: 'bad-param', error: 'InvalidParameterException' },
    ],
  });
});
after(async () => {
  await server.close();
  cleanupAwsEnv();
});

const envKeys = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'eu-west-1' };

/** Runs the provider exactly as the engine would: schema-parse the raw options, then fetch. */
async function fetchWith(raw: Record<string, unknown>, vars: Record<string, string> = envKeys) {
  return withAwsEnv(vars, (env) => provider.fetch(provider.options.parse({ endpointUrl: server.url, ...raw }), createTestContext({ env })));
}

async function failureOf(raw: Record<string, unknown>, vars: Record<string, string> = envKeys): Promise<ClaudeKeyError> {
  const err = await fetchWith(raw, vars).then(
    () => assert.fail('expected the fetch to fail'),
    (e: unknown) => e,
  );
  assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
  assert.doesNotMatch(err.line, /\n/, 'one line');
  for (const secret of ALL_SECRET_TEXT) assert.ok(!err.line.includes(secret), 'no secret material in the message');
  return err;
}

describe('aws provider: reading secrets', () => {
  test('reads the AWSCURRENT SecretString with env credentials, over a SigV4-signed request', async () => {
    const before = server.requests.length;
    const credential = await fetchWith({ secretId: 'prod/anthropic' });
    assert.equal(credential.token, TOKEN);
    assert.equal(credential.expiresAt, undefined, 'Secrets Manager has no expiry: the engine applies max-age');
    assert.deepEqual(credential.meta, { versionId: CURRENT_ID, versionStages: 'AWSCURRENT' });
    const seen = server.requests.slice(before);
    assert.deepEqual(seen, [{ service: 'secretsmanager', action: 'GetSecretValue', accessKeyId: KEY_ID, region: 'eu-west-1', status: 200 }]);
  });

  test('--aws-profile takes keys from the shared credentials file and the region from the config file', async () => {
    const files = writeSharedFiles(
      `[work]\naws_access_key_id = ${PROFILE_KEY_ID}\naws_secret_access_key = ${PROFILE_SECRET_KEY}\n`,
      '[profile work]\nregion = ap-southeast-2\n',
    );
    const before = server.requests.length;
    const credential = await fetchWith({ secretId: 'prod/anthropic', awsProfile: 'work' }, files);
    assert.equal(credential.token, TOKEN);
    assert.equal(server.requests[before]?.accessKeyId, PROFILE_KEY_ID);
    assert.equal(server.requests[before]?.region, 'ap-southeast-2');
  });

  test('the chain\'s web identity source (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) assumes the role, then reads with the session', async () => {
    const dir = writeSharedFiles('', '');
    const tokenFile = join(dirname(dir.AWS_CONFIG_FILE), 'web-identity.jwt');
    writeFileSync(tokenFile, WEB_IDENTITY_TOKEN, { mode: 0o600 });
    const before = server.requests.length;
    const credential = await fetchWith(
      { secretId: 'prod/anthropic' },
      { ...dir, AWS_REGION: 'eu-west-1', AWS_ROLE_ARN: WEB_ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ENDPOINT_URL_STS: server.url },
    );
    assert.equal(credential.token, TOKEN);
    const seen = server.requests.slice(before);
    assert.deepEqual(seen.map((r) => r.action), ['AssumeRoleWithWebIdentity', 'GetSecretValue']);
    assert.match(seen[1]?.accessKeyId ?? '', /^ASIA/, 'signed with the minted session credentials');
  });

  test('AWS_DEFAULT_REGION is honoured like the AWS CLI does', async () => {
    const before = server.requests.length;
    await fetchWith({ secretId: 'prod/anthropic' }, { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_DEFAULT_REGION: 'us-west-2' });
    assert.equal(server.requests[before]?.region, 'us-west-2');
  });

  test('--json-key prints one field of a JSON secret; numbers are printed as text', async () => {
    assert.equal((await fetchWith({ secretId: 'prod/llm-json', jsonKey: 'apiKey' })).token, 'sk-ant-api03-from-json');
    assert.equal((await fetchWith({ secretId: 'prod/llm-json', jsonKey: 'port' })).token, '8443');
  });

  test('a missing --json-key is NotFound and lists the key names but no values', async () => {
    const err = await failureOf({ secretId: 'prod/llm-json', jsonKey: 'token' });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, /"apiKey", "owner", "port"/);
    assert.doesNotMatch(err.line, /platform/);
  });

  test('--version-stage and --version-id select other versions', async () => {
    assert.equal((await fetchWith({ secretId: 'prod/anthropic', versionStage: 'AWSPREVIOUS' })).token, PREVIOUS);
    const byId = await fetchWith({ secretId: 'prod/anthropic', versionId: PREVIOUS_ID });
    assert.equal(byId.token, PREVIOUS);
    assert.equal(byId.meta?.versionStages, 'AWSPREVIOUS');
  });

  test('a missing staging label is NotFound', async () => {
    const err = await failureOf({ secretId: 'prod/anthropic', versionStage: 'AWSPENDING' });
    assert.equal(err.exitCode, ExitCode.notFound);
  });

  test('a SecretBinary holding one line of UTF-8 is printed as that text', async () => {
    const credential = await fetchWith({ secretId: 'bin/text' });
    assert.equal(credential.token, 'sk-ant-binary-text');
    assert.equal(credential.meta?.binaryEncoding, 'utf8');
  });

  test('a SecretBinary that is not UTF-8 is printed as base64', async () => {
    const credential = await fetchWith({ secretId: 'bin/raw' });
    assert.equal(credential.token, Buffer.from([0xff, 0x00, 0x10, 0x80]).toString('base64'));
    assert.equal(credential.meta?.binaryEncoding, 'base64');
  });

  test('a multi-line secret is refused instead of printing several lines, with exit 3 like any token that is not one header value', async () => {
    const err = await failureOf({ secretId: 'multi-line' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /--json-key/);
  });
});

describe('aws provider: error mapping', () => {
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ['ResourceNotFoundException -> NotFound', { secretId: 'nope' }, ExitCode.notFound, /secret "nope" not found/],
    ['AccessDeniedException -> Auth', { secretId: 'denied' }, ExitCode.auth, /access denied.*secretsmanager:GetSecretValue/],
    ['DecryptionFailure -> Auth', { secretId: 'kms-broken' }, ExitCode.auth, /kms:Decrypt/],
    ['InternalServiceError -> Unreachable', { secretId: 'flaky' }, ExitCode.unreachable, /internal error/],
    ['InvalidRequestException -> Config', { secretId: 'deleted' }, ExitCode.usage, /InvalidRequestException: .*marked for deletion/],
    ['InvalidParameterException -> Config', { secretId: 'bad-param' }, ExitCode.usage, /InvalidParameterException/],
  ];
  for (const [name, raw, exitCode, pattern] of cases) {
    test(name, async () => {
      const err = await failureOf(raw);
      assert.equal(err.exitCode, exitCode);
      assert.match(err.line, pattern);
    });
  }

  test('a wrong secret access key gets the server\'s InvalidSignatureException and maps to Auth', async () => {
    const before = server.requests.length;
    const err = await failureOf({ secretId: 'prod/anthropic' }, { ...envKeys, AWS_SECRET_ACCESS_KEY: 'not-the-right-secret-key-at-all-EXAMPLE1' });
    assert.equal(server.requests[before]?.errorCode, 'InvalidSignatureException');
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /signature/);
    assert.ok(!err.line.includes('not-the-right-secret-key'), 'the wrong key is not echoed either');
  });

  test('an unknown access key id is UnrecognizedClientException -> Auth', async () => {
    const err = await failureOf({ secretId: 'prod/anthropic' }, { ...envKeys, AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNEXAMPLE01' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /does not recognise the AWS access key/);
  });

  test('expired session credentials -> Auth with an sso login hint naming the profile', async () => {
    const files = writeSharedFiles(`[corp]\naws_access_key_id = AKIAEXPIREDEXAMPLE01\naws_secret_access_key = ${SECRET_KEY}\n`, '[profile corp]\nregion = eu-west-1\n');
    const err = await failureOf({ secretId: 'prod/anthropic', awsProfile: 'corp' }, files);
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /expired.*aws sso login --profile corp/);
  });

  test('no credentials anywhere -> Auth with a hint, without waiting on IMDS', async () => {
    const err = await failureOf({ secretId: 'prod/anthropic' }, { AWS_REGION: 'eu-west-1' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /no usable AWS credentials.*aws configure/);
  });

  test('a profile that does not exist -> Auth naming the profile', async () => {
    const err = await failureOf({ secretId: 'prod/anthropic', awsProfile: 'ghost', region: 'eu-west-1' }, {});
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /ghost/);
  });

  test('no region -> Config with a hint', async () => {
    const err = await failureOf({ secretId: 'prod/anthropic' }, { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.line, /no AWS region.*--region/);
  });

  test('a closed endpoint -> Unreachable naming the region, the socket error and what to check', async () => {
    const closed = await startAwsTestServer({ accessKeys: {} });
    await closed.close();
    const err = await failureOf({ secretId: 'prod/anthropic', endpointUrl: closed.url });
    assert.equal(err.exitCode, ExitCode.unreachable);
    const port = new URL(closed.url).port;
    assert.equal(
      err.line,
      `cannot reach Secrets Manager in eu-west-1 (ECONNREFUSED 127.0.0.1:${port}); check --region (a mistyped region names an endpoint host that does not exist), the network, and --endpoint-url`,
    );
  });

  test('a secret asked for in another region than its own -> NotFound naming the region asked', async () => {
    const err = await failureOf({ secretId: 'regional/us' });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.equal(err.line, 'secret "regional/us" not found in eu-west-1; check --secret-id and --region (a secret lives in one region), and --version-stage / --version-id');
    assert.equal((await fetchWith({ secretId: 'regional/us', region: 'us-east-1' })).token, TOKEN);
  });

  test('access denied passes on the service\'s text, which names the principal and the missing permission', async () => {
    const err = await failureOf({ secretId: 'denied' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /^access denied to secret "denied" \(AccessDeniedException: User: arn:aws:iam::123456789012:user\/test is not authorized to perform: secretsmanager:GetSecretValue on resource: denied because no identity-based policy allows/);
  });

  test('an aborted deadline signal rejects without a request reaching the server', async () => {
    const before = server.requests.length;
    const aborted = new AbortController();
    aborted.abort(new DOMException('deadline', 'TimeoutError'));
    const err = await withAwsEnv(envKeys, (env) =>
      provider.fetch(provider.options.parse({ secretId: 'prod/anthropic', endpointUrl: server.url }), createTestContext({ env, signal: aborted.signal })),
    ).then(() => assert.fail('expected a rejection'), (e: unknown) => e);
    assert.ok(isClaudeKeyError(err));
    assert.equal(err.exitCode, ExitCode.deadline);
    assert.equal(server.requests.length, before);
  });
});

describe('aws provider: options', () => {
  test('flags map to documented option names and reject malformed values', () => {
    assert.equal(provider.name, 'aws');
    assert.equal(provider.positional, undefined, 'the secret is named with --secret-id, as in the AWS CLI');
    assert.ok('awsProfile' in provider.options.shape, 'AWS profile is --aws-profile, not --profile');
    assert.ok(!('profile' in provider.options.shape));
    assert.equal(provider.options.safeParse({ secretId: 'x', versionId: 'short' }).success, false);
    assert.equal(provider.options.safeParse({ secretId: 'x', endpointUrl: 'ftp://host' }).success, false);
  });

  test('honours the provider contract', async () => {
    await withAwsEnv(envKeys, (env) =>
      checkProviderContract(provider, {
        valid: { options: { secretId: 'prod/anthropic', endpointUrl: server.url }, context: { env } },
        invalid: { secretId: '' },
        failing: { options: { secretId: 'nope', endpointUrl: server.url }, context: { env } },
      }),
    );
  });
});
