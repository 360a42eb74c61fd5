// The real Claude Code CLI (2.1.328) through claude-key-gateway to the mock upstream, with an apiKeyHelper printing JWTs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestIssuer, privateJwk, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../packages/gateway/src/test-support/keys.js';
import { REPO_ROOT, runCli, startGatewayProcess, writeConfig, type GatewayProcess } from '../packages/gateway/src/test-support/process.js';
import { MOCK_REPLY } from '../packages/gateway/src/upstreams/mock.js';
import { CLAUDE_VERSION, claudeHome as writeClaudeHome, claudeP as runClaudeP } from './support/claude-code.js';

const JOSE = join(REPO_ROOT, 'packages/gateway/node_modules/jose/dist/webapi/index.js');

describe(`Claude Code ${CLAUDE_VERSION} through the gateway`, { timeout: 180_000 }, () => {
  let dir: string;
  let issuer: TestIssuer;
  let gateway: GatewayProcess;
  let configFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ckg-claude-'));
    issuer = await createTestIssuer();
    configFile = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: join(dir, 'data'), flushIntervalMs: 50 },
      auth: { issuers: [{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksFile: issuer.jwksFile, algorithms: ['ES256'] }] },
    });
    gateway = await startGatewayProcess(configFile);
  });
  after(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A throw-away HOME whose apiKeyHelper signs a JWT for `user` of `team` each time it runs;
   * with `firstExpired` its first token is already expired (as a stale cached token would be).
   */
  async function claudeHome(user: string, team: string, firstExpired: boolean): Promise<string> {
    const home = mkdtempSync(join(dir, 'home-'));
    writeFileSync(join(home, 'key.json'), JSON.stringify(await privateJwk(issuer)), { mode: 0o600 });
    writeFileSync(
      join(home, 'helper.mjs'),
      `import { SignJWT, importJWK } from ${JSON.stringify(JOSE)};
import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(join(home, 'helper-calls'))}, 'x');
const calls = readFileSync(${JSON.stringify(join(home, 'helper-calls'))}, 'utf8').length;
const key = await importJWK(JSON.parse(readFileSync(${JSON.stringify(join(home, 'key.json'))}, 'utf8')), 'ES256');
const now = Math.floor(Date.now() / 1000) - (${firstExpired} && calls === 1 ? 3600 : 0);
const token = await new SignJWT({ iss: ${JSON.stringify(TEST_ISSUER)}, aud: ${JSON.stringify(TEST_AUDIENCE)}, sub: ${JSON.stringify(user)}, team: ${JSON.stringify(team)}, jti: 'cc-' + calls + '-' + now, iat: now, exp: now + 300 })
  .setProtectedHeader({ alg: 'ES256', kid: ${JSON.stringify(issuer.kid)} }).sign(key);
process.stdout.write(token);
`,
    );
    return writeClaudeHome(home, { apiKeyHelper: `${process.execPath} ${join(home, 'helper.mjs')}` });
  }

  async function claudeP(home: string, prompt: string) {
    const run = await runClaudeP(home, prompt, { ANTHROPIC_BASE_URL: gateway.url }, { timeoutMs: 90_000 });
    return { ...run, helperCalls: readFileSync(join(home, 'helper-calls'), 'utf8').length };
  }

  it('answers claude -p from the mock upstream, attributed to the helper token\'s user and team', async () => {
    const result = await claudeP(await claudeHome('carol', 'design', false), 'Say hello');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), MOCK_REPLY);
    const logs = await gateway.waitForRequestLogs((lines) => lines.some((r) => r.user === 'carol' && r.status === 200));
    assert.ok(logs.some((r) => r.user === 'carol' && r.team === 'design' && r.status === 200), JSON.stringify(logs));
  });

  it('answers 401 to an expired token; Claude Code re-runs the helper and the retry succeeds', async () => {
    const result = await claudeP(await claudeHome('dave', 'design', true), 'Say hello');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), MOCK_REPLY);
    assert.equal(result.helperCalls, 2, 'the helper must have been run again after the 401');
    const logs = await gateway.waitForRequestLogs((lines) => lines.some((r) => r.user === 'dave' && r.status === 200));
    assert.ok(logs.some((r) => r.user === 'dave' && r.status === 200), JSON.stringify(logs));
    const refused = logs.filter((r) => r.status === 401 && r.error === 'authentication_error');
    assert.equal(refused.length, 1);
  });

  it('reports the usage per user and team with `claude-key-gateway usage` after a clean shutdown', async () => {
    assert.equal(await gateway.stop(), 0);
    const byUser = await runCli(['usage', '--config', configFile, '--by', 'user', '--since', '1h']);
    assert.equal(byUser.code, 0, byUser.stderr);
    assert.match(byUser.stdout, /^carol\s+1\s+[1-9]\d*\s+[1-9]/m);
    assert.match(byUser.stdout, /^dave\s+1\s+[1-9]/m);
    const byTeam = await runCli(['usage', '--config', configFile, '--by', 'team', '--since', '1h']);
    assert.match(byTeam.stdout, /^design\s+2\s+/m);
    const verify = await runCli(['audit', 'verify', '--config', configFile]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /audit log intact: 3 records/);
  });
});
