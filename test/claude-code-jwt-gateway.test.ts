// The product chain with real parts: claude-key jwt keygen -> claude-key-gateway -> Claude Code (2.1.328) with claude-key jwt as apiKeyHelper.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, runCli, startGatewayProcess, writeConfig, type GatewayProcess } from '../packages/gateway/src/test-support/process.js';
import { MOCK_REPLY } from '../packages/gateway/src/upstreams/mock.js';
import { claudeHome, claudeP as runClaudeP } from './support/claude-code.js';

const CLAUDE_KEY = join(REPO_ROOT, 'packages/cli/dist/claude-key.cjs');
const HELPER = `${process.execPath} ${CLAUDE_KEY} jwt --aud claude-gateway --team platform --sub alice`;

describe('claude-key jwt as apiKeyHelper for Claude Code, verified by claude-key-gateway', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let gateway: GatewayProcess;
  let configFile: string;

  const claudeKey = (...args: string[]) => execFileSync(process.execPath, [CLAUDE_KEY, ...args], { env, encoding: 'utf8' });
  const gatewayConfig = (revoked: string[]) =>
    writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: join(dir, 'data'), flushIntervalMs: 50 },
      auth: { issuers: [{ issuer: 'claude-key', audience: 'claude-gateway', jwksFile: join(dir, 'jwks.json') }], revoked },
    });
  const cached = () => (JSON.parse(claudeKey('cache', 'status', '--json')) as { provider: string; refusedTokens: number; meta: { jti: string; sub: string } }[]).find((r) => r.provider === 'jwt')!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ck-chain-'));
    const home = claudeHome(join(dir, 'home'), { apiKeyHelper: HELPER, env: { CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '900000' } });
    env = { PATH: process.env.PATH, HOME: home, CLAUDE_KEY_CONFIG_DIR: join(dir, 'config'), CLAUDE_KEY_CACHE_DIR: join(dir, 'cache') };
    writeFileSync(join(dir, 'jwks.json'), claudeKey('jwt', 'keygen'));
    configFile = gatewayConfig([]);
    gateway = await startGatewayProcess(configFile);
  });
  after(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const claudeP = (prompt: string) =>
    runClaudeP(env.HOME!, prompt, { ...env, ANTHROPIC_BASE_URL: gateway.url });

  it('claude -p answers through the gateway, attributed to the JWT user and team', async () => {
    const r = await claudeP('Say hello');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), MOCK_REPLY);
    const logs = await gateway.waitForRequestLogs((lines) => lines.some((l) => l.status === 200));
    assert.ok(logs.some((l) => l.user === 'alice' && l.team === 'platform' && l.status === 200), JSON.stringify(logs));
    assert.equal(cached().meta.sub, 'alice');
  });

  it('after the cached token is revoked, Claude Code gets a 401, re-runs claude-key, which mints a new token, and the request succeeds', async () => {
    const revoked = cached().meta.jti;
    // The same address: the helper's cache is per destination, so a token cached for this gateway
    // is offered to it again (and refused), never to another one.
    const port = Number(new URL(gateway.url).port);
    await gateway.stop();
    gateway = await startGatewayProcess(gatewayConfig([revoked]), {}, port);
    const r = await claudeP('Say hello again');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), MOCK_REPLY);
    const statuses = (await gateway.waitForRequestLogs((lines) => lines.some((l) => l.status === 200))).map((l) => l.status);
    assert.deepEqual(statuses.slice(0, 2), [401, 200], 'one refusal, then success with the fresh token');
    const now = cached();
    assert.notEqual(now.meta.jti, revoked);
    assert.equal(now.refusedTokens, 1);
  });

  it('the usage report counts both successful requests for alice after a clean shutdown', async () => {
    assert.equal(await gateway.stop(), 0);
    const byUser = await runCli(['usage', '--config', configFile, '--by', 'user', '--since', '1h']);
    assert.equal(byUser.code, 0, byUser.stderr);
    assert.match(byUser.stdout, /^alice\s+2\s+[1-9]/m);
  });
});
