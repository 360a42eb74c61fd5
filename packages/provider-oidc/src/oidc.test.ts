// End-to-end tests of `claude-key oidc` against a real OpenID Provider (oidc-provider) on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ExitCode, isClaudeKeyError } from '@claude-key/core';
import { checkProviderContract, createTestContext } from '@claude-key/core/testing';
import { createOidcProvider } from './index.js';
import { completeBrowserSignIn, completeDeviceSignIn } from './test-support/device-user.js';
import { commandIo, loginThroughDeviceFlow, tempConfigDir } from './test-support/harness.js';
import {
  DEVICE_CLIENT_ID,
  GATEWAY_RESOURCE,
  SERVICE_CLIENT_ID,
  SERVICE_CLIENT_SECRET,
  startTestOp,
  type TestOp,
} from './test-support/test-op.js';

let op: TestOp;
before(async () => {
  op = await startTestOp();
});
after(() => op.close());

const nonInteractive = createOidcProvider({ isInteractive: () => false, browserFor: () => undefined });

function userOptions(extra: Record<string, unknown> = {}) {
  return { issuer: op.issuer, clientId: DEVICE_CLIENT_ID, allowInsecureRequests: true, storage: 'file', ...extra };
}

/** A signed-in user: a fresh config dir holding one stored session. */
async function signedIn() {
  const dir = await tempConfigDir();
  const env = { CLAUDE_KEY_CONFIG_DIR: dir };
  const login = await loginThroughDeviceFlow(nonInteractive, userOptions(), { env, now: Date.now() });
  const fetchToken = (extra: Record<string, unknown> = {}) =>
    nonInteractive.fetch(nonInteractive.options.parse(userOptions(extra)), createTestContext({ env, now: Date.now() }));
  return { dir, env, login, fetchToken, storedRefreshToken: () => readStoredRefreshToken(dir) };
}

async function sessionFile(dir: string): Promise<string> {
  const files = await readdir(join(dir, 'oidc'));
  assert.equal(files.length, 1, 'exactly one session file');
  return join(dir, 'oidc', files[0]!);
}

async function readStoredRefreshToken(dir: string): Promise<string> {
  return (JSON.parse(await readFile(await sessionFile(dir), 'utf8')) as { refreshToken: string }).refreshToken;
}

async function rejects(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    assert.ok(isClaudeKeyError(err), `expected a ClaudeKeyError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a failure');
}

describe('oidc login (device authorization grant)', () => {
  test('shows the URL and code on stderr only, and stores the refresh token in a 0600 file in a 0700 dir', async () => {
    const user = await signedIn();
    assert.match(user.login.stderr, new RegExp(`open ${op.issuer}/device and enter the code [A-Z]{4}-[A-Z]{4}`));
    assert.match(user.login.stderr, /Signed in to .* as alice/);
    assert.deepEqual(user.login.stdout, [], 'stdout stays empty');
    assert.match(user.login.successPage, /Sign-in Success/);
    const file = await sessionFile(user.dir);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(user.dir, 'oidc'))).mode & 0o777, 0o700);
    const refreshToken = await user.storedRefreshToken();
    assert.ok(refreshToken.length > 20);
    assert.ok(!user.login.stderr.includes(refreshToken), 'the refresh token is never shown');
    // The stored token is one the OP honours.
    assert.equal((await op.refreshDirectly(refreshToken)).status, 200);
  });

  test('opens a browser at the complete verification URL only when interactive', async () => {
    const opened: string[] = [];
    const provider = createOidcProvider({ browserFor: () => async (url) => void opened.push(url) });
    const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
    await loginThroughDeviceFlow(provider, userOptions(), { env }, false);
    assert.deepEqual(opened, [], 'no browser for a non-interactive login');
    await loginThroughDeviceFlow(provider, userOptions(), { env }, true);
    assert.equal(opened.length, 1);
    assert.match(opened[0]!, new RegExp(`^${op.issuer}/device\\?user_code=[A-Z]{4}-[A-Z]{4}$`));
  });

  test('stops polling when the deadline signal fires', async () => {
    const deadline = new AbortController();
    const ctx = createTestContext({ signal: deadline.signal, env: { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() } });
    const { io } = commandIo(ctx, { onStderr: (text) => text.includes('Waiting') && deadline.abort(new DOMException('deadline', 'TimeoutError')) });
    const login = nonInteractive.commands!.login!;
    await assert.rejects(login.run(login.options.parse(userOptions()), io), { name: 'TimeoutError' });
  });
});

describe('oidc login --flow browser (authorization code + PKCE)', () => {
  test('signs in through a loopback redirect with an S256 challenge and stores the refresh token', async () => {
    const dir = await tempConfigDir();
    let shownUrl: URL | undefined;
    let signIn: Promise<string> | undefined;
    const provider = createOidcProvider({
      browserFor: () => async (url) => {
        shownUrl = new URL(url);
        signIn = completeBrowserSignIn(url);
      },
    });
    const ctx = createTestContext({ env: { CLAUDE_KEY_CONFIG_DIR: dir } });
    const { io, stderr } = commandIo(ctx, { interactive: true });
    const login = provider.commands!.login!;
    await login.run(login.options.parse(userOptions({ flow: 'browser' })), io);
    assert.match(await signIn!, /Signed in to claude-key/, 'the loopback callback answered the browser');
    assert.equal(shownUrl!.searchParams.get('code_challenge_method'), 'S256');
    assert.match(shownUrl!.searchParams.get('code_challenge')!, /^[\w-]{43}$/);
    assert.match(shownUrl!.searchParams.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.ok(shownUrl!.searchParams.get('state'));
    assert.equal(shownUrl!.searchParams.get('prompt'), 'consent', 'offline_access needs prompt=consent (OIDC Core 11)');
    assert.match(stderr.join(''), /Signed in to .* as alice/);
    assert.equal((await op.refreshDirectly(await readStoredRefreshToken(dir))).status, 200);
  });
});

describe('oidc fetch with a stored session', () => {
  test('refreshes silently, saves the rotated refresh token, and the next fetch uses the new one', async () => {
    const user = await signedIn();
    const first = await user.storedRefreshToken();
    const now = Date.now();
    const credential = await nonInteractive.fetch(
      nonInteractive.options.parse(userOptions()),
      createTestContext({ env: user.env, now }),
    );
    assert.ok(credential.token.length > 20);
    assert.equal(credential.expiresAt, now + 600_000, 'expiry is expires_in counted from ctx.now()');
    assert.equal(credential.meta?.rotated, true);
    const second = await user.storedRefreshToken();
    assert.notEqual(second, first, 'the rotated refresh token replaced the old one');

    const again = await user.fetchToken();
    assert.notEqual(again.token, credential.token);
    const third = await user.storedRefreshToken();
    assert.notEqual(third, second, 'the second fetch used (and rotated) the new token');
    // The first token was consumed by rotation: the OP refuses it.
    const replay = await op.refreshDirectly(first);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
  });

  test('with --resource the refreshed access token is a JWT for the gateway carrying the user', async () => {
    const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
    const options = userOptions({ scope: ['openid offline_access chat'], resource: GATEWAY_RESOURCE });
    await loginThroughDeviceFlow(nonInteractive, options, { env });
    const now = Date.now();
    const credential = await nonInteractive.fetch(nonInteractive.options.parse(options), createTestContext({ env, now }));
    const claims = decodeJwt(credential.token);
    assert.equal(claims.aud, 'claude-gateway');
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.scope, 'chat');
    assert.equal(credential.expiresAt, now + 600_000);
  });

  test('--id-token prints the ID token, with its exp as the expiry', async () => {
    const user = await signedIn();
    const credential = await user.fetchToken({ idToken: true });
    const claims = decodeJwt(credential.token);
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.aud, DEVICE_CLIENT_ID);
    assert.equal(claims.sub, 'alice');
    assert.equal(credential.expiresAt, claims.exp! * 1000);
    assert.equal(credential.meta?.type, 'id_token');
  });

  test('an expired refresh token fails at once with the login command, and the dead session is dropped', async () => {
    const user = await signedIn();
    op.expireRefreshTokens();
    const err = await rejects(user.fetchToken());
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, new RegExp(`no valid OIDC session for ${op.issuer} \\(the stored session expired or was revoked\\)`));
    assert.ok(err.line.includes(`run: claude-key oidc login --issuer ${op.issuer} --client-id ${DEVICE_CLIENT_ID} --storage file --allow-insecure-requests`));
    assert.deepEqual(await readdir(join(user.dir, 'oidc')), [], 'the refused session is removed');
  });

  test('a refresh token revoked at the OP fails the same way', async () => {
    const user = await signedIn();
    const refreshToken = await user.storedRefreshToken();
    await op.revoke(refreshToken);
    const err = await rejects(user.fetchToken());
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /no valid OIDC session .*; run: claude-key oidc login/);
    assert.ok(!err.line.includes(refreshToken));
  });

  test('when another process rotated the token after we read it, the refresh retries once with the new one', async () => {
    // Two sign-ins: ours was rotated away (dead at the OP), the other process stored a live one.
    const ours = await signedIn();
    const stale = await ours.storedRefreshToken();
    await op.revoke(stale);
    const other = await signedIn();
    const live = await other.storedRefreshToken();
    const reads: string[] = [];
    const saved: string[] = [];
    const store = {
      async load() {
        const value = reads.length === 0 ? stale : live;
        reads.push(value);
        return value;
      },
      async save(_key: unknown, token: string) {
        saved.push(token);
        return 'memory';
      },
      async remove() {
        throw new Error('a session another process just refreshed must not be dropped');
      },
    };
    const provider = createOidcProvider({ isInteractive: () => false, openStore: () => store });
    const credential = await provider.fetch(provider.options.parse(userOptions()), createTestContext({ now: Date.now() }));
    assert.ok(credential.token.length > 20);
    assert.deepEqual(reads, [stale, live]);
    assert.equal(saved.length, 1);
    assert.notEqual(saved[0], live, 'the token the retry rotated is saved');
  });

  test('without any session a non-interactive run fails before touching the network', async () => {
    const closed = await startTestOp();
    await closed.close();
    const options = { issuer: closed.issuer, clientId: DEVICE_CLIENT_ID, allowInsecureRequests: true, storage: 'file' };
    const ctx = createTestContext({ env: { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() } });
    // The issuer is down: reaching for it would be an UnreachableError, not the login hint.
    const err = await rejects(nonInteractive.fetch(nonInteractive.options.parse(options), ctx));
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /^no valid OIDC session for .*; run: claude-key oidc login/);
  });

  test('at a terminal without a session, fetch runs the device flow itself and keeps the session', async () => {
    const env = { CLAUDE_KEY_CONFIG_DIR: await tempConfigDir() };
    const ctx = createTestContext({ env, now: Date.now() });
    let signIn: Promise<string> | undefined;
    const original = ctx.log.warn;
    ctx.log.warn = (line) => {
      original(line);
      const shown = /open (\S+) and enter the code (\S+)/.exec(line);
      if (shown && !signIn) signIn = completeDeviceSignIn(shown[1]!, shown[2]!);
    };
    const interactive = createOidcProvider({ isInteractive: () => true, browserFor: () => undefined });
    const credential = await interactive.fetch(interactive.options.parse(userOptions()), ctx);
    await signIn;
    assert.equal(credential.meta?.grant, 'device_code');
    assert.ok((await readStoredRefreshToken(env.CLAUDE_KEY_CONFIG_DIR)).length > 20);
  });
});

describe('oidc logout', () => {
  test('revokes the refresh token at the OP and forgets it locally', async () => {
    const user = await signedIn();
    const refreshToken = await user.storedRefreshToken();
    const ctx = createTestContext({ env: user.env });
    const { io, stderr } = commandIo(ctx);
    const logout = nonInteractive.commands!.logout!;
    await logout.run(logout.options.parse(userOptions()), io);
    assert.match(stderr.join(''), /Signed out of/);
    assert.deepEqual(await readdir(join(user.dir, 'oidc')), []);
    assert.equal((await op.refreshDirectly(refreshToken)).body.error, 'invalid_grant');
  });
});

describe('oidc fetch with client credentials', () => {
  const serviceOptions = (extra: Record<string, unknown> = {}) => ({
    issuer: op.issuer,
    clientId: SERVICE_CLIENT_ID,
    clientSecret: 'env:CI_SECRET',
    grant: 'client-credentials',
    allowInsecureRequests: true,
    ...extra,
  });
  const ciContext = { env: { CI_SECRET: SERVICE_CLIENT_SECRET } };

  test('gets a token for the resource with the client secret', async () => {
    const now = Date.now();
    const credential = await nonInteractive.fetch(
      nonInteractive.options.parse(serviceOptions({ resource: GATEWAY_RESOURCE, scope: ['chat'] })),
      createTestContext({ ...ciContext, now }),
    );
    const claims = decodeJwt(credential.token);
    assert.equal(claims.aud, 'claude-gateway');
    assert.equal(claims.client_id, SERVICE_CLIENT_ID);
    assert.equal(claims.scope, 'chat');
    assert.equal(credential.expiresAt, now + 600_000);
    assert.equal(credential.meta?.grant, 'client_credentials');
  });

  test('a wrong client secret is an auth error that does not show the secret', async () => {
    const err = await rejects(
      nonInteractive.fetch(nonInteractive.options.parse(serviceOptions()), createTestContext({ env: { CI_SECRET: 'wrong-secret-value' } })),
    );
    assert.equal(err.exitCode, ExitCode.auth);
    assert.match(err.line, /refused to issue a client-credentials token: invalid_client/);
    assert.ok(!err.line.includes('wrong-secret-value'));
  });

  test('honours the provider contract', async () => {
    await checkProviderContract(nonInteractive, {
      valid: { options: serviceOptions(), context: ciContext },
      invalid: { issuer: 'http://idp.example.com', clientId: 'x' },
      failing: { options: serviceOptions(), context: { env: { CI_SECRET: 'not-the-secret' } } },
    });
  });
});

describe('oidc discovery failures', () => {
  test('an unreachable issuer is an UnreachableError', async () => {
    const gone = await startTestOp();
    await gone.close();
    const options = { issuer: gone.issuer, clientId: SERVICE_CLIENT_ID, clientSecret: 'env:S', grant: 'client-credentials', allowInsecureRequests: true };
    const err = await rejects(nonInteractive.fetch(nonInteractive.options.parse(options), createTestContext({ env: { S: 'x' } })));
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.line, /cannot reach the OpenID Provider .* to serve its discovery document \(ECONNREFUSED\)/);
  });

  test('an issuer URL without a discovery document is a NotFoundError naming --issuer', async () => {
    const options = { issuer: `${op.issuer}/wrong-tenant`, clientId: SERVICE_CLIENT_ID, clientSecret: 'env:S', grant: 'client-credentials', allowInsecureRequests: true };
    const err = await rejects(nonInteractive.fetch(nonInteractive.options.parse(options), createTestContext({ env: { S: 'x' } })));
    assert.equal(err.exitCode, ExitCode.notFound);
    assert.match(err.line, /answered 404 .*; check the --issuer URL/);
  });
});
