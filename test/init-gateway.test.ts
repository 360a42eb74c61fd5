// One command to onboard: `claude-key init --gateway URL` creates a key, enrolls it, writes Claude Code's settings and checks a request.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../packages/gateway/src/config.js';
import { createGateway, type Gateway } from '../packages/gateway/src/gateway.js';
import { createLogger } from '../packages/gateway/src/log.js';
import { createTestIssuer, issuerConfig } from '../packages/gateway/src/test-support/keys.js';
import { REPO_ROOT } from '../packages/gateway/src/test-support/process.js';
import { CLI_BIN } from '../packages/cli/src/testing.js';

const run = promisify(execFile);

describe('claude-key init --gateway', { timeout: 240_000 }, () => {
  let dir: string;
  let gateway: Gateway;
  let url: string;
  let login: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ck-init-gw-'));
    const idp = await createTestIssuer();
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: 'memory://', flushIntervalMs: 20 },
      auth: {
        issuers: [
          { issuer: 'claude-key', audience: 'claude-key-gateway', trust: 'enrolled' },
          { ...issuerConfig(idp), claims: { user: 'email', team: 'groups' }, approveEnrollment: true },
        ],
      },
      policies: { teams: { platform: {}, research: {} } },
    });
    gateway = await createGateway(config, { logger: createLogger('error') });
    url = await gateway.listen(0, '127.0.0.1');
    login = await idp.sign({ sub: 'u-123', email: 'ada@example.com', groups: ['platform'], team: undefined }, { ttlSec: 600 });
  });
  after(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const envFor = (name: string) => ({
    PATH: process.env.PATH,
    HOME: join(dir, name, 'home'),
    CLAUDE_KEY_CONFIG_DIR: join(dir, name, 'config'),
    CLAUDE_KEY_CACHE_DIR: join(dir, name, 'cache'),
    CK_LOGIN: login,
  });
  const claudeKey = (env: NodeJS.ProcessEnv, ...args: string[]) => run(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8' });

  it('with a login: creates a key, enrolls it (active at once), writes the settings and checks a request', async () => {
    const env = envFor('ada');
    const before = gateway.upstreams.mock!.count;
    const { stdout } = await claudeKey(env, 'init', '--gateway', url, '--login', 'env:CK_LOGIN', '--team', 'platform', '--yes');
    assert.match(stdout, /checked: .* accepts the token of ada@example\.com \(team platform\)/);
    assert.equal(gateway.upstreams.mock!.count, before + 1, 'one real request reached the upstream');
    const settings = JSON.parse(readFileSync(join(env.HOME, '.claude', 'settings.json'), 'utf8')) as { apiKeyHelper: string; env: Record<string, string> };
    assert.equal(settings.apiKeyHelper, 'claude-key jwt --iss claude-key --aud claude-key-gateway --sub ada@example.com --team platform');
    assert.equal(settings.env.ANTHROPIC_BASE_URL, url);

    // The settings line works as written (claude-key run from source here).
    const { stdout: token } = await claudeKey(env, ...settings.apiKeyHelper.split(' ').slice(1));
    const r = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
  });

  it('without a login: the key waits for an admin, and init says what to ask for', async () => {
    const env = envFor('bob');
    const { stdout } = await claudeKey(env, 'init', '--gateway', url, '--user', 'bob@example.com', '--team', 'research', '--yes');
    assert.match(stdout, /waits for approval; ask a gateway admin to run: claude-key-gateway keys approve [A-Za-z0-9_-]{43}/);
  });
});
