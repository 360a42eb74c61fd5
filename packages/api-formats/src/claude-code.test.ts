// The real Claude Code CLI in its three modes (Anthropic, Bedrock, Vertex) through a gateway made of
// this package's functions, to the Anthropic test upstream. Proves the formats match what Claude Code sends and reads.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UPSTREAM_TEXT } from './test-support/anthropic-fixtures.js';
import { startAnthropicUpstream, type AnthropicUpstream } from './test-support/anthropic-upstream.js';
import { startFormatGateway } from './test-support/format-gateway.js';
import type { RunningServer } from './test-support/http.js';

const CLAUDE_VERSION = '2.1.328';
const CLAUDE = resolve(import.meta.dirname, '../../../node_modules/.bin/claude');
const GATEWAY_KEY = 'gateway-user-key';
const BEDROCK_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

describe(`Claude Code ${CLAUDE_VERSION} in each mode`, { skip: !existsSync(CLAUDE) && 'Claude Code is not installed' }, () => {
  let dir: string;
  let upstream: AnthropicUpstream;
  let gateway: RunningServer;
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'api-formats-claude-'));
    upstream = await startAnthropicUpstream({ apiKey: 'upstream-key' });
    gateway = await startFormatGateway({
      deployment: { kind: 'mock', baseUrl: upstream.url, model: 'claude-sonnet-4-5-20250929' },
      clientKey: GATEWAY_KEY,
      profiles: [{ id: BEDROCK_ID }, { id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0' }],
      authorize: async (request) => ({ ...request, headers: { ...request.headers, 'x-api-key': 'upstream-key' } }),
      onRequest: (method, url) => seen.push(`${method} ${url.split('?')[0]}`),
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function claudeP(env: Record<string, string>): Promise<string> {
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', 'settings.json'), JSON.stringify({ apiKeyHelper: `echo ${GATEWAY_KEY}` }));
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
    const child = spawn(CLAUDE, ['-p', 'Say hello'], {
      env: { PATH: process.env['PATH'], HOME: home, CI: 'true', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = await once(child, 'exit');
    clearTimeout(timer);
    assert.equal(code, 0, `claude exited ${code}: ${stderr}${stdout}`);
    return stdout;
  }

  test('Anthropic Messages (ANTHROPIC_BASE_URL)', async () => {
    seen.length = 0;
    const out = await claudeP({ ANTHROPIC_BASE_URL: gateway.url });
    assert.ok(out.includes(UPSTREAM_TEXT), out);
    assert.ok(seen.includes('POST /v1/messages'), seen.join(', '));
  });

  test('Bedrock (CLAUDE_CODE_USE_BEDROCK, event-stream answers)', async () => {
    seen.length = 0;
    const out = await claudeP({
      CLAUDE_CODE_USE_BEDROCK: '1',
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      ANTHROPIC_BEDROCK_BASE_URL: `${gateway.url}/bedrock`,
      AWS_REGION: 'us-east-1',
    });
    assert.ok(out.includes(UPSTREAM_TEXT), out);
    assert.ok(seen.includes('GET /bedrock/inference-profiles'), 'Claude Code lists inference profiles at start-up');
    assert.ok(seen.some((line) => /^POST \/bedrock\/model\/[^/]+\/invoke(-with-response-stream)?$/.test(line)), seen.join(', '));
  });

  test('Vertex (CLAUDE_CODE_USE_VERTEX, rawPredict)', async () => {
    seen.length = 0;
    const out = await claudeP({
      CLAUDE_CODE_USE_VERTEX: '1',
      CLAUDE_CODE_SKIP_VERTEX_AUTH: '1',
      ANTHROPIC_VERTEX_BASE_URL: `${gateway.url}/vertex_ai/v1`,
      ANTHROPIC_VERTEX_PROJECT_ID: 'proj-1',
      CLOUD_ML_REGION: 'us-east5',
    });
    assert.ok(out.includes(UPSTREAM_TEXT), out);
    assert.ok(seen.some((line) => /^POST \/vertex_ai\/v1\/projects\/proj-1\/locations\/us-east5\/publishers\/anthropic\/models\/[^/]+:(stream)?[rR]awPredict$/.test(line)), seen.join(', '));
  });
});
