// The real Claude Code CLI (2.1.328) in all three modes (Anthropic, Bedrock, Vertex) through claude-key-gateway to
// the mock upstream, with `claude-key jwt` as apiKeyHelper: each answers and its usage is the helper's user.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startGatewayProcess, writeConfig, type GatewayProcess, type RequestLogLine } from '../packages/gateway/src/test-support/process.js';
import { MOCK_REPLY } from '../packages/gateway/src/upstreams/mock.js';
import { claudeHome, claudeP as runClaudeP } from './support/claude-code.js';

const CLAUDE_KEY = join(REPO_ROOT, 'packages/cli/dist/claude-key.cjs');
const HELPER = `${process.execPath} ${CLAUDE_KEY} jwt --aud claude-gateway --team platform --sub alice`;

describe('Claude Code 2.1.328 in Anthropic, Bedrock and Vertex modes through claude-key-gateway', { timeout: 300_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let gateway: GatewayProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ck-formats-'));
    const home = claudeHome(join(dir, 'home'), { apiKeyHelper: HELPER });
    env = { PATH: process.env.PATH, HOME: home, CLAUDE_KEY_CONFIG_DIR: join(dir, 'config'), CLAUDE_KEY_CACHE_DIR: join(dir, 'cache') };
    writeFileSync(join(dir, 'jwks.json'), execFileSync(process.execPath, [CLAUDE_KEY, 'jwt', 'keygen'], { env, encoding: 'utf8' }));
    const config = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: join(dir, 'data'), flushIntervalMs: 50 },
      auth: { issuers: [{ issuer: 'claude-key', audience: 'claude-gateway', jwksFile: join(dir, 'jwks.json') }] },
      models: [
        {
          name: 'claude-sonnet-4-5',
          aliases: ['claude-sonnet-4-5-20250929', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
          deployments: [{ upstream: 'mock', model: 'claude-sonnet-4-5-20250929' }],
        },
      ],
      routes: [{ model: 'claude-*', upstream: 'mock' }],
    });
    gateway = await startGatewayProcess(config);
  });
  after(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function claudeP(modeEnv: Record<string, string>) {
    const run = await runClaudeP(env.HOME!, 'Say hello', { ...env, ...modeEnv }, { timeoutMs: 90_000 });
    assert.equal(run.code, 0, `claude exited ${run.code}: ${run.stderr}`);
    return run.stdout.trim();
  }

  /** The 200s of one inbound format, once at least one has been logged. */
  const servedFor = async (format: string) => {
    const ok = (l: RequestLogLine) => l.format === `${format}:messages` && l.status === 200;
    return (await gateway.waitForRequestLogs((lines) => lines.some(ok))).filter(ok);
  };

  it('Anthropic mode (ANTHROPIC_BASE_URL)', async () => {
    assert.equal(await claudeP({ ANTHROPIC_BASE_URL: gateway.url }), MOCK_REPLY);
    const served = await servedFor('anthropic');
    assert.ok(served.length > 0 && served.every((l) => l.user === 'alice' && l.team === 'platform' && l.deployment?.startsWith('mock/')), JSON.stringify(served));
  });

  it('Bedrock mode (CLAUDE_CODE_USE_BEDROCK, event-stream answers translated from the SSE upstream)', async () => {
    const out = await claudeP({
      CLAUDE_CODE_USE_BEDROCK: '1',
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      ANTHROPIC_BEDROCK_BASE_URL: `${gateway.url}/bedrock`,
      AWS_REGION: 'us-east-1',
    });
    assert.equal(out, MOCK_REPLY);
    const served = await servedFor('bedrock');
    assert.ok(served.length > 0 && served.every((l) => l.user === 'alice' && l.team === 'platform'), JSON.stringify(gateway.requestLogs()));
  });

  it('Vertex mode (CLAUDE_CODE_USE_VERTEX, rawPredict)', async () => {
    const out = await claudeP({
      CLAUDE_CODE_USE_VERTEX: '1',
      CLAUDE_CODE_SKIP_VERTEX_AUTH: '1',
      ANTHROPIC_VERTEX_BASE_URL: `${gateway.url}/vertex_ai/v1`,
      ANTHROPIC_VERTEX_PROJECT_ID: 'p',
      CLOUD_ML_REGION: 'us-east5',
    });
    assert.equal(out, MOCK_REPLY);
    const served = await servedFor('vertex');
    assert.ok(served.length > 0 && served.every((l) => l.user === 'alice' && l.team === 'platform'), JSON.stringify(gateway.requestLogs()));
  });
});
