// End to end: the claude-key binary (from source) runs `oidc login` and `oidc` against the test OP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '@claude-key/core';
import { runClaudeKey } from '../../cli/src/testing.js';
import { completeDeviceSignIn } from './test-support/device-user.js';
import { loginThroughDeviceFlow, tempConfigDir } from './test-support/harness.js';
import { createOidcProvider } from './index.js';
import { DEVICE_CLIENT_ID, startTestOp, type TestOp } from './test-support/test-op.js';

let op: TestOp;
let home: string;
before(async () => {
  op = await startTestOp();
  home = await tempConfigDir();
});
after(() => op.close());

/** Runs the binary with stdin not a TTY (as Claude Code does); `onStderr` sees output as it comes. */
function claudeKey(args: string[], onStderr?: (text: string) => void) {
  const env = { HOME: home, CLAUDE_KEY_CONFIG_DIR: join(home, 'config'), CLAUDE_KEY_CACHE_DIR: join(home, 'cache') };
  return runClaudeKey(args, { env, onStderr });
}

const provider = createOidcProvider({ isInteractive: () => false, browserFor: () => undefined });
const sessionOptions = () => ({ issuer: op.issuer, clientId: DEVICE_CLIENT_ID, allowInsecureRequests: true });
async function storedSession(): Promise<string> {
  const dir = join(home, 'config', 'oidc');
  const [file] = await readdir(dir);
  return readFile(join(dir, file!), 'utf8');
}
const sessionFlags = () => ['--issuer', op.issuer, '--client-id', DEVICE_CLIENT_ID, '--allow-insecure-requests', '--storage', 'file'];

describe('claude-key oidc (CLI)', () => {
  test('without a login the helper fails at once with the login command (exit 3), printing nothing on stdout', async () => {
    const run = await claudeKey(['oidc', ...sessionFlags()]);
    assert.equal(run.code, ExitCode.auth, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /no valid OIDC session for .*run: claude-key oidc login --issuer/);
  });

  test('after a login, the settings line prints one access token and rotates the stored session', async () => {
    await loginThroughDeviceFlow(provider, { ...sessionOptions(), storage: 'file' }, { env: { CLAUDE_KEY_CONFIG_DIR: join(home, 'config') } });
    const before = await storedSession();
    const run = await claudeKey(['oidc', ...sessionFlags()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\S{20,}\n$/);
    assert.ok(!run.stderr.includes(run.stdout.trim()), 'the token is not echoed on stderr');
    assert.notEqual(await storedSession(), before, 'the rotated refresh token was saved');
  });

  test('oidc login runs the device flow from the binary', async () => {
    let signIn: Promise<string> | undefined;
    const login = await claudeKey(['oidc', 'login', ...sessionFlags()], (text) => {
      const shown = /open (\S+) and enter the code (\S+)/.exec(text);
      if (shown && !signIn) signIn = completeDeviceSignIn(shown[1]!, shown[2]!);
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, '');
    await signIn;
  });
});
