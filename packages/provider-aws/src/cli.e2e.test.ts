// End to end: the claude-key binary (from source) runs `aws` and `aws-credentials` against the AWS test server, through the engine's cache.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '@claude-key/core';
import { runClaudeKey } from '../../cli/src/testing.js';
import { startAwsTestServer, type AwsTestServer } from './test-support/aws-test-server.js';
import { parseCredentialExport } from './test-support/credential-export-parser.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'sk-ant-api03-e2e-secret-value';
const ROLE = 'arn:aws:iam::123456789012:role/bedrock-user';
const OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlMmUifQ.c2ln';

let server: AwsTestServer;
let home: string;
before(async () => {
  server = await startAwsTestServer({
    accessKeys: { [KEY_ID]: SECRET_KEY },
    secrets: [{ name: 'prod/anthropic', versions: [{ versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', stages: ['AWSCURRENT'], string: TOKEN }] }],
    roles: [{ arn: ROLE, webIdentityTokens: [OIDC_TOKEN] }],
  });
  home = mkdtempSync(join(tmpdir(), 'claude-key-aws-e2e-'));
  const oidcFile = join(home, 'oidc.jwt');
  writeFileSync(oidcFile, `${OIDC_TOKEN}\n`, { mode: 0o600 });
  writeFileSync(
    join(home, 'config.yaml'),
    [
      'profiles:',
      '  llm:',
      '    provider: aws',
      '    secretId: prod/anthropic',
      `    endpointUrl: ${server.url}`,
      '  corp-oidc:',
      '    provider: file',
      `    path: ${oidcFile}`,
      '  bedrock:',
      '    provider: aws-credentials',
      `    roleArn: ${ROLE}`,
      '    webIdentityToken: profile:corp-oidc',
      `    endpointUrl: ${server.url}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
});
after(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

/** The binary with this suite's home, config and a cache per test, kept away from any real AWS setup. */
function claudeKey(args: string[], env: Record<string, string> = {}, cacheName = 'cache') {
  const awsIsolation = {
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
  };
  return runClaudeKey(args, {
    env: { HOME: home, CLAUDE_KEY_CACHE_DIR: join(home, cacheName), CLAUDE_KEY_CONFIG: join(home, 'config.yaml'), ...awsIsolation, ...env },
  });
}

const keys = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY };

describe('claude-key aws (CLI)', () => {
  test('cold call fetches once; the warm call is served by the engine cache without a request', async () => {
    const start = server.requests.length;
    const cold = await claudeKey(['aws', '--secret-id', 'prod/anthropic', '--endpoint-url', server.url], keys, 'cache-flags');
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(cold.stdout, `${TOKEN}\n`);
    assert.equal(server.requests.length, start + 1);
    const warm = await claudeKey(['aws', '--secret-id', 'prod/anthropic', '--endpoint-url', server.url], keys, 'cache-flags');
    assert.equal(warm.stdout, `${TOKEN}\n`);
    assert.equal(server.requests.length, start + 1, 'the warm call made no network request');
  });

  test('works from a claude-key profile', async () => {
    const run = await claudeKey(['--profile', 'llm'], keys, 'cache-profile');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${TOKEN}\n`);
  });

  test('a missing secret exits with the not-found code and one stderr line without secrets', async () => {
    const run = await claudeKey(['aws', '--secret-id', 'prod/missing', '--endpoint-url', server.url], keys, 'cache-missing');
    assert.equal(run.code, ExitCode.notFound);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.ok(!run.stderr.includes(SECRET_KEY));
  });

  test('a wrong secret key exits with the auth code', async () => {
    const run = await claudeKey(['aws', '--secret-id', 'prod/anthropic', '--endpoint-url', server.url], { ...keys, AWS_SECRET_ACCESS_KEY: 'wrong/secret/key/EXAMPLE+0123456789abcdef' }, 'cache-wrong');
    assert.equal(run.code, ExitCode.auth);
    assert.match(run.stderr, /signature/);
    assert.ok(!run.stderr.includes('wrong/secret/key'));
  });
});

describe('claude-key aws-credentials (CLI)', () => {
  test('a profile assuming a role with another profile\'s OIDC token prints awsCredentialExport JSON, cached until Expiration', async () => {
    const start = server.requests.length;
    const cold = await claudeKey(['--profile', 'bedrock'], {}, 'cache-bedrock');
    assert.equal(cold.code, 0, cold.stderr);
    const parsed = parseCredentialExport(cold.stdout);
    assert.ok(parsed.expiration! > Date.now());
    assert.deepEqual(server.requests.slice(start).map((r) => r.action), ['AssumeRoleWithWebIdentity']);
    const warm = await claudeKey(['--profile', 'bedrock'], {}, 'cache-bedrock');
    assert.equal(warm.stdout, cold.stdout);
    assert.equal(server.requests.length, start + 1, 'the warm call made no network request');
  });

  test('from the credential chain with flags: long-term keys become a session via GetSessionToken', async () => {
    const run = await claudeKey(['aws-credentials', '--endpoint-url', server.url], keys, 'cache-chain');
    assert.equal(run.code, 0, run.stderr);
    const parsed = parseCredentialExport(run.stdout);
    assert.match(parsed.accessKeyId, /^ASIA/);
  });
});
