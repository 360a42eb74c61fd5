// The `aws-credentials` provider with the real AWS SDK against the STS test server; output read by a strict awsCredentialExport parser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, isClaudeKeyError, type ClaudeKeyError } from '@claude-key/core';
import { checkProviderContract, createTestContext, type TestContextOptions } from '@claude-key/core/testing';
import secretsProvider, { awsCredentialsProvider as provider } from './index.js';
import { startAwsTestServer, type AwsTestServer } from './test-support/aws-test-server.js';
import { cleanupAwsEnv, withAwsEnv, writeSharedFiles } from './test-support/aws-env.js';
import { parseCredentialExport } from './test-support/credential-export-parser.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ROLE = 'arn:aws:iam::123456789012:role/bedrock-user';
const GUARDED_ROLE = 'arn:aws:iam::123456789012:role/partner';
const EXTERNAL_ID = 'partner-external-id-42';
const OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN';
const NOW = Date.now();

let server: AwsTestServer;
before(async () => {
  server = await startAwsTestServer({
    accessKeys: { [KEY_ID]: SECRET_KEY, ASIASESSIONEXAMPLE01: { secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN } },
    roles: [
      { arn: ROLE, webIdentityTokens: [OIDC_TOKEN] },
      { arn: GUARDED_ROLE, externalId: EXTERNAL_ID },
    ],
    secrets: [{ name: 'prod/anthropic', versions: [{ versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', stages: ['AWSCURRENT'], string: 'sk-ant-via-role' }] }],
    now: () => NOW,
  });
});
after(async () => {
  await server.close();
  cleanupAwsEnv();
});

const envKeys = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1' };

async function fetchWith(raw: Record<string, unknown>, vars: Record<string, string> = envKeys, context: TestContextOptions = {}) {
  return withAwsEnv(vars, (env) =>
    provider.fetch(provider.options.parse({ endpointUrl: server.url, ...raw }), createTestContext({ now: NOW, env, ...context })),
  );
}

async function failureOf(raw: Record<string, unknown>, vars: Record<string, string> = envKeys, context: TestContextOptions = {}): Promise<ClaudeKeyError> {
  const err = await fetchWith(raw, vars, context).then(() => assert.fail('expected a failure'), (e: unknown) => e);
  assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
  for (const secret of [SECRET_KEY, OIDC_TOKEN, EXTERNAL_ID, SESSION_TOKEN]) assert.ok(!err.line.includes(secret), 'no secret in the message');
  return err;
}

const sinceNow = () => server.requests.length;

describe('aws-credentials: sources', () => {
  test('session credentials from the chain are printed as they are, without calling STS', async () => {
    const start = sinceNow();
    const credential = await fetchWith({}, { AWS_ACCESS_KEY_ID: 'ASIASESSIONEXAMPLE01', AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_SESSION_TOKEN: SESSION_TOKEN, AWS_REGION: 'us-east-1' });
    const parsed = parseCredentialExport(credential.token);
    assert.deepEqual(parsed, { accessKeyId: 'ASIASESSIONEXAMPLE01', secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN });
    assert.equal(credential.expiresAt, undefined, 'no known expiry: the engine applies max-age');
    assert.equal(server.requests.length, start);
  });

  test('long-term keys are traded for a session with GetSessionToken, because Claude Code requires a SessionToken', async () => {
    const start = sinceNow();
    const credential = await fetchWith({ durationSeconds: 3600 });
    const parsed = parseCredentialExport(credential.token);
    assert.match(parsed.accessKeyId, /^ASIA/);
    assert.equal(parsed.expiration, Math.floor(NOW / 1000) * 1000 + 3_600_000);
    assert.equal(credential.expiresAt, parsed.expiration, 'cached by the engine until Expiration');
    assert.deepEqual(server.requests.slice(start).map((r) => [r.action, r.accessKeyId, r.status]), [['GetSessionToken', KEY_ID, 200]]);
  });

  test('--role-arn assumes the role with the credentials of --aws-profile', async () => {
    const files = writeSharedFiles(`[base]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET_KEY}\n`, '[profile base]\nregion = eu-central-1\n');
    const start = sinceNow();
    const credential = await fetchWith({ roleArn: ROLE, awsProfile: 'base', durationSeconds: 900 }, files);
    const parsed = parseCredentialExport(credential.token);
    assert.equal(parsed.expiration, Math.floor(NOW / 1000) * 1000 + 900_000);
    assert.equal(credential.meta?.source, 'assume-role');
    assert.deepEqual(server.requests.slice(start).map((r) => [r.action, r.accessKeyId, r.region]), [['AssumeRole', KEY_ID, 'eu-central-1']]);
  });

  test('the minted credentials are accepted by the (signature-checking) server for a later Secrets Manager call', async () => {
    const parsed = parseCredentialExport((await fetchWith({ roleArn: ROLE })).token);
    const vars = { AWS_ACCESS_KEY_ID: parsed.accessKeyId, AWS_SECRET_ACCESS_KEY: parsed.secretAccessKey, AWS_SESSION_TOKEN: parsed.sessionToken, AWS_REGION: 'us-east-1' };
    const secret = await withAwsEnv(vars, (env) =>
      secretsProvider.fetch(secretsProvider.options.parse({ secretId: 'prod/anthropic', endpointUrl: server.url }), createTestContext({ env })),
    );
    assert.equal(secret.token, 'sk-ant-via-role');
  });

  test('--external-id is sent with AssumeRole; a wrong one is AccessDenied -> Auth', async () => {
    const ok = await fetchWith({ roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID });
    parseCredentialExport(ok.token);
    const err = await failureOf({ roleArn: GUARDED_ROLE, externalId: 'wrong-external-id' });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /access denied to role arn:aws:iam::123456789012:role\/partner.*trust policy/);
  });

  test('--web-identity-token resolves a secret ref and calls AssumeRoleWithWebIdentity unsigned, with no AWS credentials', async () => {
    const start = sinceNow();
    const credential = await fetchWith({ roleArn: ROLE, webIdentityToken: 'profile:corp-oidc', roleSessionName: 'ci-run' }, { AWS_REGION: 'us-east-1' }, { secrets: { 'profile:corp-oidc': OIDC_TOKEN } });
    const parsed = parseCredentialExport(credential.token);
    assert.equal(credential.expiresAt, parsed.expiration);
    assert.equal(credential.meta?.source, 'web-identity');
    assert.deepEqual(server.requests.slice(start), [{ service: 'sts', action: 'AssumeRoleWithWebIdentity', status: 200 }]);
  });

  test('a web identity token STS does not accept -> Auth', async () => {
    const err = await failureOf({ roleArn: ROLE, webIdentityToken: 'env:OIDC' }, { AWS_REGION: 'us-east-1' }, { secrets: { 'env:OIDC': 'not-a-valid-token' } });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /rejected the web identity token/);
  });
});

describe('aws-credentials: errors and options', () => {
  test('a wrong secret key gets STS SignatureDoesNotMatch -> Auth', async () => {
    const start = sinceNow();
    const err = await failureOf({}, { ...envKeys, AWS_SECRET_ACCESS_KEY: 'wrong/secret/key/EXAMPLE+0123456789abcdef' });
    assert.equal(server.requests[start]?.errorCode, 'SignatureDoesNotMatch');
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /signature/);
  });

  test('an out-of-range duration is rejected by the schema, naming the field', () => {
    const parsed = provider.options.safeParse({ durationSeconds: 60 });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['durationSeconds']);
  });

  test('--web-identity-token without --role-arn is a usage error', async () => {
    const err = await failureOf({ webIdentityToken: 'profile:corp-oidc' });
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.line, /needs --role-arn/);
  });

  test('an unresolvable token ref is a usage error naming the ref', async () => {
    const err = await failureOf({ roleArn: ROLE, webIdentityToken: 'env:MISSING_OIDC' }, { AWS_REGION: 'us-east-1' });
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.line, /env:MISSING_OIDC/);
  });

  test('honours the provider contract', async () => {
    await withAwsEnv(envKeys, (env) =>
      checkProviderContract(provider, {
        valid: { options: { endpointUrl: server.url }, context: { env } },
        invalid: { roleArn: 'not-an-arn' },
        failing: { options: { endpointUrl: server.url, roleArn: 'arn:aws:iam::123456789012:role/unknown' }, context: { env } },
      }),
    );
  });
});

describe('credential export parser', () => {
  test('rejects outputs Claude Code would not read', () => {
    const good = { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't' };
    assert.doesNotThrow(() => parseCredentialExport(JSON.stringify({ Credentials: good })));
    assert.throws(() => parseCredentialExport(JSON.stringify(good)), /"Credentials"/);
    assert.throws(() => parseCredentialExport(JSON.stringify({ Credentials: { ...good, SessionToken: '' } })), /SessionToken/);
    assert.throws(() => parseCredentialExport(JSON.stringify({ Credentials: { ...good, Expiration: 'tomorrow' } })), /Expiration/);
    assert.throws(() => parseCredentialExport(JSON.stringify({ Credentials: good }, null, 2)), /single line/);
  });
});
