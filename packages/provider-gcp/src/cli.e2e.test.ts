// End to end: the claude-key binary (from source) runs `gcp` against the fake Google endpoints, through the engine's cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { ExitCode } from '@claude-key/core';
import { runClaudeKey } from '../../cli/src/testing.js';
import { startFakeGoogle, type FakeGoogle } from './test-support/fake-google.js';

const SA = 'claude-helper@proj-a.iam.gserviceaccount.com';
const OUTSIDER = 'outsider@proj-b.iam.gserviceaccount.com';
const VM_SA = 'vm-default@proj-a.iam.gserviceaccount.com';
const SECRET = 'projects/proj-a/secrets/anthropic-key';
const SECRET_VALUE = 'sk-ant-api03-gcp-e2e-value';
const AUDIENCE = 'https://llm-gateway-abc123-uc.a.run.app';

let google: FakeGoogle;
let home: string;
let saKey: string;
let outsiderKey: string;

before(async () => {
  google = await startFakeGoogle({
    serviceAccounts: [SA, OUTSIDER],
    secrets: [{ name: SECRET, versions: [SECRET_VALUE], accessors: [SA] }],
    metadata: { email: VM_SA, projectId: 'proj-a' },
  });
  saKey = await google.writeServiceAccountKey(SA);
  outsiderKey = await google.writeServiceAccountKey(OUTSIDER);
  home = mkdtempSync(join(tmpdir(), 'claude-key-gcp-e2e-'));
  writeFileSync(
    join(home, 'config.yaml'),
    [
      'profiles:',
      '  vertex:',
      '    provider: gcp',
      '    kind: access-token',
      `    credentialsFile: ${saKey}`,
      '  gateway-key:',
      '    provider: gcp',
      '    kind: secret',
      `    name: ${SECRET}/versions/latest`,
      `    credentialsFile: ${saKey}`,
      `    secretManagerEndpoint: ${google.secretManager.url}`,
      '  cloud-run:',
      '    provider: gcp',
      '    kind: id-token',
      `    audience: ${AUDIENCE}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
});

after(async () => {
  await google.close();
  rmSync(home, { recursive: true, force: true });
});

/** The binary with this suite's home, config and a cache per test; no metadata server unless a test names one. */
function claudeKey(args: string[], env: Record<string, string> = {}, cacheName = 'cache') {
  return runClaudeKey(args, {
    env: { HOME: home, CLAUDE_KEY_CACHE_DIR: join(home, cacheName), CLAUDE_KEY_CONFIG: join(home, 'config.yaml'), METADATA_SERVER_DETECTION: 'none', ...env },
  });
}

const tokenRequests = () => google.oauth.requests.length;

test('`gcp access-token` prints a service-account token; the warm call makes no network request', async () => {
  const cold = await claudeKey(['gcp', 'access-token', '--credentials-file', saKey], {}, 'cache-flags');
  assert.equal(cold.code, 0, cold.stderr);
  const token = cold.stdout.trim();
  assert.equal(google.ledger.lookup(token)?.principal, SA);
  const requestsAfterCold = tokenRequests();
  const warm = await claudeKey(['gcp', 'access-token', '--credentials-file', saKey], {}, 'cache-flags');
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.stdout.trim(), token);
  assert.equal(tokenRequests(), requestsAfterCold, 'the warm call must not reach the token endpoint');
});

test('a profile prints the access token from its settings', async () => {
  const run = await claudeKey(['--profile', 'vertex']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(google.ledger.lookup(run.stdout.trim())?.principal, SA);
});

test('a Secret Manager profile prints the secret and serves it warm without calling Google', async () => {
  const cold = await claudeKey(['--profile', 'gateway-key']);
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(cold.stdout, `${SECRET_VALUE}\n`);
  const seen = google.secretManager.requests.length + tokenRequests();
  const warm = await claudeKey(['--profile', 'gateway-key']);
  assert.equal(warm.stdout, `${SECRET_VALUE}\n`);
  assert.equal(google.secretManager.requests.length + tokenRequests(), seen);
});

test('an id-token profile on the metadata server prints an ID token for the audience', async () => {
  const run = await claudeKey(['--profile', 'cloud-run'], { GCE_METADATA_HOST: google.metadata.host, METADATA_SERVER_DETECTION: 'ping-only' });
  assert.equal(run.code, 0, run.stderr);
  const { payload } = await jwtVerify(run.stdout.trim(), google.idTokens.publicKey, { audience: AUDIENCE });
  assert.equal(payload.email, VM_SA);
});

test('permission denied on the secret exits 3 with one line and no secret', async () => {
  const run = await claudeKey(['gcp', 'secret', '--name', `${SECRET}/versions/latest`, '--credentials-file', outsiderKey, '--secret-manager-endpoint', google.secretManager.url]);
  assert.equal(run.code, ExitCode.auth);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /permission denied on projects\/proj-a\/secrets\/anthropic-key\/versions\/latest/);
  assert.doesNotMatch(run.stderr, /ya29\.|sk-ant-|PRIVATE KEY/);
});

test('a disabled Secret Manager API exits 3 with one line giving the gcloud command to enable it', async () => {
  google.secretManagerState.disabledIn = '123456789012';
  try {
    // --cache off: the same secret read by an earlier test is rightly cached for these inputs.
    const run = await claudeKey(['--cache', 'off', 'gcp', 'secret', '--name', `${SECRET}/versions/latest`, '--credentials-file', saKey, '--secret-manager-endpoint', google.secretManager.url]);
    assert.equal(run.code, ExitCode.auth);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /gcloud services enable secretmanager\.googleapis\.com --project=123456789012/);
  } finally {
    delete google.secretManagerState.disabledIn;
  }
});

test('no credentials at all exits 3 and says how to log in', async () => {
  const run = await claudeKey(['gcp', 'access-token']);
  assert.equal(run.code, ExitCode.auth);
  assert.match(run.stderr, /no Google Application Default Credentials found; run `gcloud auth application-default login`/);
});

test('id-token without --audience is a usage error naming the flag', async () => {
  const run = await claudeKey(['gcp', 'id-token', '--credentials-file', saKey]);
  assert.equal(run.code, ExitCode.usage);
  assert.match(run.stderr, /audience/);
});
