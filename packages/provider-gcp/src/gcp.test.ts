// Tests the gcp provider with the real google-auth-library against faithful local Google endpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { ExitCode, isClaudeKeyError, tokenProblem, type ClaudeKeyError, type Credential } from '@claude-key/core';
import { checkProviderContract, createTestContext, type TestContextOptions } from '@claude-key/core/testing';
import gcp from './index.js';
import { startFakeGoogle, type FakeGoogle } from './test-support/fake-google.js';
import { GOOGLE_TOKEN_AUDIENCE } from './test-support/oauth-token-server.js';

const SA = 'claude-helper@proj-a.iam.gserviceaccount.com';
const TARGET = 'vertex-caller@proj-a.iam.gserviceaccount.com';
const STRANGER = 'stranger@proj-b.iam.gserviceaccount.com';
const VM_SA = 'vm-default@proj-a.iam.gserviceaccount.com';
const USER = { email: 'dev@example.com', clientId: '764086051850-test.apps.googleusercontent.com', clientSecret: 'd-FL95Q19q7MQmFpd7hHD0Ty', refreshToken: '1//0g-refresh-token-of-dev' };
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const AUDIENCE = 'https://llm-gateway-abc123-uc.a.run.app';
const SECRET = 'projects/proj-a/secrets/anthropic-key';
const POOL = '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/ci/providers/github';
const FEDERATED = 'principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/ci/subject/repo:acme/app';
const CI_OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl';

let google: FakeGoogle;
let saKey: string;
let strangerKey: string;
let emptyHome: string;

before(async () => {
  google = await startFakeGoogle({
    serviceAccounts: [SA, STRANGER],
    users: [USER],
    secrets: [
      { name: SECRET, versions: ['sk-ant-old-version', 'sk-ant-api03-secret-from-sm\n'], accessors: [SA, VM_SA] },
      { name: 'projects/proj-a/secrets/corrupted', versions: ['sk-ant-corrupted'], accessors: [SA], corruptChecksum: true },
      { name: 'projects/proj-a/secrets/multi-line', versions: ['line-1\nline-2'], accessors: [SA] },
    ],
    impersonation: [{ email: TARGET, tokenCreators: [SA, FEDERATED] }],
    federation: [{ audience: POOL, subjectToken: CI_OIDC_TOKEN, principal: FEDERATED }],
    metadata: { email: VM_SA, projectId: 'proj-a' },
  });
  saKey = await google.writeServiceAccountKey(SA);
  strangerKey = await google.writeServiceAccountKey(STRANGER);
  emptyHome = await mkdtemp(join(tmpdir(), 'claude-key-gcp-home-'));
});

after(async () => {
  await google.close();
  await rm(emptyHome, { recursive: true, force: true });
});

/** A context on the real clock (google-auth-library computes expiry from Date.now()). */
function context(env: Record<string, string | undefined> = {}, extra: TestContextOptions = {}) {
  return createTestContext({ now: Date.now(), env: { HOME: emptyHome, ...env }, ...extra });
}

async function fetchWith(options: Record<string, unknown>, env?: Record<string, string | undefined>): Promise<Credential> {
  return gcp.fetch(gcp.options.parse(options), context(env));
}

async function failureOf(options: Record<string, unknown>, env?: Record<string, string | undefined>): Promise<ClaudeKeyError> {
  try {
    await fetchWith(options, env);
  } catch (err) {
    assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
    assert.doesNotMatch(err.line, /[\r\n]/, 'an error is one line');
    assert.doesNotMatch(err.line, /PRIVATE KEY|ya29\.|sk-ant-|refresh-token-of-dev|d-FL95Q19q7MQmFpd7hHD0Ty/, 'no secret in the message');
    return err;
  }
  assert.fail('expected the fetch to fail');
}

/** Runs `body` with process-wide variables set: gcp-metadata reads GCE_METADATA_HOST from process.env. */
async function withProcessEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('access-token', () => {
  test('a service-account key gets a token from its token_uri, with expiry from expires_in', async () => {
    const before = Date.now();
    const credential = await fetchWith({ kind: 'access-token', credentialsFile: saKey });
    const grant = google.ledger.lookup(credential.token);
    assert.equal(grant?.principal, SA);
    assert.deepEqual(grant?.scopes, [CLOUD_PLATFORM]);
    assert.ok(credential.expiresAt! >= before + 3599_000 && credential.expiresAt! <= Date.now() + 3599_000, 'expiry = issue time + expires_in');
    // What the library signed, as Google's endpoint verifies it (RS256, against the key's public half).
    const claims = google.oauth.lastAssertionClaims!;
    assert.equal(claims.iss, SA);
    assert.equal(claims.aud, GOOGLE_TOKEN_AUDIENCE);
    assert.equal(claims.scope, CLOUD_PLATFORM);
  });

  test('GOOGLE_APPLICATION_CREDENTIALS from the helper environment is used when no file is given', async () => {
    const credential = await fetchWith({ kind: 'access-token' }, { GOOGLE_APPLICATION_CREDENTIALS: saKey });
    assert.equal(google.ledger.lookup(credential.token)?.principal, SA);
  });

  test('--scopes are repeatable and reach the token endpoint', async () => {
    const scopes = ['https://www.googleapis.com/auth/cloud-platform.read-only', 'https://www.googleapis.com/auth/userinfo.email'];
    const credential = await fetchWith({ kind: 'access-token', credentialsFile: saKey, scopes });
    assert.deepEqual(google.ledger.lookup(credential.token)?.scopes, scopes);
    assert.equal(google.oauth.lastAssertionClaims!.scope, scopes.join(' '));
  });

  test('user credentials from `gcloud auth application-default login` (gcloud well-known file) use the refresh grant', async () => {
    const userFile = await google.writeAuthorizedUser(USER);
    const { mkdir, copyFile } = await import('node:fs/promises');
    const config = join(google.dir, 'gcloud-config');
    await mkdir(config, { recursive: true, mode: 0o700 });
    await copyFile(userFile, join(config, 'application_default_credentials.json'));
    const credential = await fetchWith({ kind: 'access-token' }, { CLOUDSDK_CONFIG: config });
    assert.equal(google.ledger.lookup(credential.token)?.principal, USER.email);
    assert.ok(credential.expiresAt! > Date.now() + 3500_000);
  });

  test('--impersonate-service-account mints the target account token through IAM Credentials', async () => {
    const credential = await fetchWith({
      kind: 'access-token',
      credentialsFile: saKey,
      impersonateServiceAccount: TARGET,
      iamCredentialsEndpoint: google.iamCredentials.url,
    });
    const grant = google.ledger.lookup(credential.token);
    assert.equal(grant?.principal, TARGET);
    assert.deepEqual(grant?.scopes, [CLOUD_PLATFORM]);
    assert.ok(Math.abs(credential.expiresAt! - (Date.now() + 3600_000)) < 5_000, 'expiry from expireTime');
    assert.match(String(credential.meta?.source), new RegExp(`as ${TARGET}`));
  });

  test('workload identity federation exchanges the external token at STS', async () => {
    const config = await google.writeExternalAccount({ audience: POOL, subjectToken: CI_OIDC_TOKEN, principal: FEDERATED }, CI_OIDC_TOKEN);
    const credential = await fetchWith({ kind: 'access-token', credentialsFile: config });
    const grant = google.ledger.lookup(credential.token);
    assert.equal(grant?.principal, FEDERATED);
    assert.deepEqual(grant?.scopes, [CLOUD_PLATFORM]);
    assert.ok(credential.expiresAt! > Date.now() + 3500_000);
  });

  test('workload identity federation with service_account_impersonation_url prints the service account token', async () => {
    const config = await google.writeExternalAccount({ audience: POOL, subjectToken: CI_OIDC_TOKEN, principal: FEDERATED }, CI_OIDC_TOKEN, TARGET);
    const credential = await fetchWith({ kind: 'access-token', credentialsFile: config });
    assert.equal(google.ledger.lookup(credential.token)?.principal, TARGET);
  });

  test('the metadata server path (GCE_METADATA_HOST) gets the VM service account token', async () => {
    const credential = await withProcessEnv({ GCE_METADATA_HOST: google.metadata.host }, () =>
      fetchWith({ kind: 'access-token' }, { GCE_METADATA_HOST: google.metadata.host }),
    );
    assert.equal(google.ledger.lookup(credential.token)?.principal, VM_SA);
    assert.ok(credential.expiresAt! > Date.now() + 3500_000);
    assert.ok(google.metadata.requests.some((r) => r.startsWith('GET /computeMetadata/v1/instance/service-accounts/default/token')));
  });
});

describe('id-token', () => {
  test('a service-account key gets a Google-signed ID token for the audience; expiry is its exp', async () => {
    const credential = await fetchWith({ kind: 'id-token', credentialsFile: saKey, audience: AUDIENCE });
    const { payload } = await jwtVerify(credential.token, google.idTokens.publicKey, { issuer: 'https://accounts.google.com', audience: AUDIENCE });
    assert.equal(payload.email, SA);
    assert.equal(credential.expiresAt, payload.exp! * 1000);
    assert.equal(google.oauth.lastAssertionClaims!.target_audience, AUDIENCE);
  });

  test('the metadata server identity endpoint serves the VM account ID token', async () => {
    const credential = await withProcessEnv({ GCE_METADATA_HOST: google.metadata.host }, () =>
      fetchWith({ kind: 'id-token', audience: AUDIENCE }, { GCE_METADATA_HOST: google.metadata.host }),
    );
    const { payload } = await jwtVerify(credential.token, google.idTokens.publicKey, { audience: AUDIENCE });
    assert.equal(payload.email, VM_SA);
    assert.equal(credential.expiresAt, payload.exp! * 1000);
  });

  test('impersonation mints the ID token as the target account', async () => {
    const credential = await fetchWith({
      kind: 'id-token',
      credentialsFile: saKey,
      audience: AUDIENCE,
      impersonateServiceAccount: TARGET,
      iamCredentialsEndpoint: google.iamCredentials.url,
    });
    const { payload } = await jwtVerify(credential.token, google.idTokens.publicKey, { audience: AUDIENCE });
    assert.equal(payload.email, TARGET);
  });

  test('user credentials give the OAuth client ID token, with a warning that it is not for the audience', async () => {
    const userFile = await google.writeAuthorizedUser(USER);
    const ctx = context();
    const credential = await gcp.fetch(gcp.options.parse({ kind: 'id-token', credentialsFile: userFile, audience: AUDIENCE }), ctx);
    const { payload } = await jwtVerify(credential.token, google.idTokens.publicKey, { audience: USER.clientId });
    assert.equal(payload.email, USER.email);
    const warning = ctx.logs.find((l) => l.level === 'warn');
    assert.match(warning?.message ?? '', new RegExp(`audience ${USER.clientId}, not ${AUDIENCE}.*--impersonate-service-account`));
    assert.ok(!warning!.message.includes(credential.token));
  });

  test('id-token without --audience is rejected by the schema, naming the field', () => {
    const parsed = gcp.options.safeParse({ kind: 'id-token' });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error!.issues[0]!.path, ['audience']);
  });
});

describe('secret', () => {
  test('reads the latest version, verifies its CRC32C and drops the trailing newline', async () => {
    const credential = await fetchWith({
      kind: 'secret',
      credentialsFile: saKey,
      name: `${SECRET}/versions/latest`,
      secretManagerEndpoint: google.secretManager.url,
    });
    assert.equal(credential.token, 'sk-ant-api03-secret-from-sm');
    assert.equal(credential.meta?.version, '2');
    assert.equal(credential.expiresAt, undefined);
  });

  test('reads a pinned version through the metadata server credentials', async () => {
    const credential = await withProcessEnv({ GCE_METADATA_HOST: google.metadata.host }, () =>
      fetchWith({ kind: 'secret', name: `${SECRET}/versions/1`, secretManagerEndpoint: google.secretManager.url }),
    );
    assert.equal(credential.token, 'sk-ant-old-version');
  });

  test('PERMISSION_DENIED is an AuthError naming the secret', async () => {
    const err = await failureOf({ kind: 'secret', credentialsFile: strangerKey, name: `${SECRET}/versions/latest`, secretManagerEndpoint: google.secretManager.url });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /permission denied on projects\/proj-a\/secrets\/anthropic-key\/versions\/latest.*roles\/secretmanager\.secretAccessor/);
  });

  test('a disabled Secret Manager API says to enable it with gcloud, not to grant a role', async () => {
    google.secretManagerState.disabledIn = '123456789012';
    try {
      const err = await failureOf({ kind: 'secret', credentialsFile: saKey, name: `${SECRET}/versions/latest`, secretManagerEndpoint: google.secretManager.url });
      assert.equal(err.exitCode, ExitCode.auth);
      assert.equal(
        err.line,
        'secretmanager.googleapis.com is not enabled in project 123456789012 (Google answered SERVICE_DISABLED while reading the secret); ' +
          'enable it: gcloud services enable secretmanager.googleapis.com --project=123456789012, then wait a few minutes for it to take effect',
      );
      assert.doesNotMatch(err.line, /secretAccessor/);
    } finally {
      delete google.secretManagerState.disabledIn;
    }
  });

  test('a Secret Manager endpoint nobody listens on is UnreachableError naming it', async () => {
    const err = await failureOf({ kind: 'secret', credentialsFile: saKey, name: `${SECRET}/versions/latest`, secretManagerEndpoint: 'http://127.0.0.1:9' });
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.line, /^cannot reach Google while reading the secret \(.*127\.0\.0\.1:9.*\); check the network and proxy \(HTTPS_PROXY\), and the endpoint options \(--secret-manager-endpoint/);
  });

  test('a missing version is NotFoundError', async () => {
    const err = await failureOf({ kind: 'secret', credentialsFile: saKey, name: `${SECRET}/versions/9`, secretManagerEndpoint: google.secretManager.url });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, /versions\/9/);
  });

  test('a payload whose CRC32C does not match is refused, not printed', async () => {
    const err = await failureOf({ kind: 'secret', credentialsFile: saKey, name: 'projects/proj-a/secrets/corrupted/versions/latest', secretManagerEndpoint: google.secretManager.url });
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.line, /CRC32C/);
  });

  test('a multi-line payload comes back whole for the core\'s one token rule to refuse (exit 3), not a second check here', async () => {
    const credential = await fetchWith({ kind: 'secret', credentialsFile: saKey, name: 'projects/proj-a/secrets/multi-line/versions/latest', secretManagerEndpoint: google.secretManager.url });
    assert.equal(credential.token, 'line-1\nline-2');
    assert.match(tokenProblem(credential.token) ?? '', /has a line break at position 7/);
  });

  test('a regional secret name selects the regional endpoint', async () => {
    const { secretManagerBase } = await import('./secret-manager.js');
    assert.equal(secretManagerBase({ name: 'projects/p/locations/europe-west4/secrets/s/versions/1' }), 'https://secretmanager.europe-west4.rep.googleapis.com');
    assert.equal(secretManagerBase({ name: `${SECRET}/versions/1` }), 'https://secretmanager.googleapis.com');
  });
});

describe('errors', () => {
  test('a key the token endpoint cannot verify is an AuthError with the ADC login hint', async () => {
    const forged = await google.writeServiceAccountKey(SA, { private_key: google.accounts.get(STRANGER)!.privateKeyPem });
    const err = await failureOf({ kind: 'access-token', credentialsFile: forged });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /invalid_grant: Invalid JWT Signature/);
    assert.match(err.line, /gcloud auth application-default login/);
  });

  test('a revoked user refresh token is an AuthError with the ADC login hint', async () => {
    const revoked = await google.writeAuthorizedUser({ ...USER, refreshToken: '1//0g-revoked' });
    const err = await failureOf({ kind: 'access-token', credentialsFile: revoked });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /Token has been expired or revoked/);
    assert.match(err.line, /gcloud auth application-default login/);
  });

  test('an external token STS does not accept is an AuthError', async () => {
    const config = await google.writeExternalAccount({ audience: POOL, subjectToken: CI_OIDC_TOKEN, principal: FEDERATED }, 'eyJhbGciOiJSUzI1NiJ9.e30.Zm9yZ2Vk');
    const err = await failureOf({ kind: 'access-token', credentialsFile: config });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /invalid_grant/);
    assert.doesNotMatch(err.line, /eyJhbGciOiJSUzI1NiJ9/);
  });

  test('impersonation without roles/iam.serviceAccountTokenCreator is an AuthError naming the target', async () => {
    const err = await failureOf({ kind: 'access-token', credentialsFile: strangerKey, impersonateServiceAccount: TARGET, iamCredentialsEndpoint: google.iamCredentials.url });
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, new RegExp(`permission denied on ${TARGET}.*roles/iam\\.serviceAccountTokenCreator`));
  });

  test('impersonation with the IAM Credentials API disabled says to enable that API', async () => {
    google.iamCredentialsState.disabledIn = '123456789012';
    try {
      const err = await failureOf({ kind: 'access-token', credentialsFile: saKey, impersonateServiceAccount: TARGET, iamCredentialsEndpoint: google.iamCredentials.url });
      assert.equal(err.exitCode, ExitCode.auth);
      assert.match(err.line, /^iamcredentials\.googleapis\.com is not enabled in project 123456789012 .*; enable it: gcloud services enable iamcredentials\.googleapis\.com --project=123456789012/);
      assert.doesNotMatch(err.line, /serviceAccountTokenCreator/);
    } finally {
      delete google.iamCredentialsState.disabledIn;
    }
  });

  test('no credentials anywhere is an AuthError that says how to log in', async () => {
    const err = await withProcessEnv({ METADATA_SERVER_DETECTION: 'none' }, () => failureOf({ kind: 'access-token' }));
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /no Google Application Default Credentials found; run `gcloud auth application-default login`/);
  });

  test('a missing --credentials-file is "does not exist" (exit 6) naming the path and where it was given', async () => {
    const err = await failureOf({ kind: 'access-token', credentialsFile: join(google.dir, 'nope.json') });
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, /the Google credentials file \S*nope\.json \(--credentials-file\) does not exist/);
  });

  test('a token endpoint nobody listens on is UnreachableError', async () => {
    const closed = await google.writeServiceAccountKey(SA, { token_uri: 'http://127.0.0.1:9/token' });
    const err = await failureOf({ kind: 'access-token', credentialsFile: closed });
    assert.equal(err.exitCode, ExitCode.unreachable);
  });
});

test('the metadata server fake enforces the Metadata-Flavor contract', async () => {
  const url = `${google.metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`;
  const bare = await fetch(url);
  assert.equal(bare.status, 403);
  assert.equal(bare.headers.get('metadata-flavor'), null);
  const forwarded = await fetch(url, { headers: { 'Metadata-Flavor': 'Google', 'X-Forwarded-For': '10.0.0.1' } });
  assert.equal(forwarded.status, 403);
  const ok = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('metadata-flavor'), 'Google');
});

test('the provider honours the contract', async () => {
  const credential = await checkProviderContract(gcp, {
    valid: { options: { kind: 'access-token', credentialsFile: saKey }, context: { now: Date.now(), env: { HOME: emptyHome } } },
    invalid: { kind: 'secret', name: 'not-a-resource-name' },
    failing: { options: { kind: 'access-token', credentialsFile: strangerKey, impersonateServiceAccount: TARGET, iamCredentialsEndpoint: google.iamCredentials.url } },
  });
  assert.equal(google.ledger.lookup(credential.token)?.principal, SA);
});
