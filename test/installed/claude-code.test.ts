// Real Claude Code with the installed claude-key as apiKeyHelper against the installed claude-key-gateway.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { claudeHome, claudeP, CLAUDE_VERSION } from '../support/claude-code.js';
import { NODES, pathFor, run, tempDir } from './support.js';

const node = NODES[0]!; // Claude Code runs on the machine's Node; the helper's Node matrix is in helper-and-gateway.test.ts
const HELPER = 'claude-key jwt --aud claude-key-gateway --team platform --sub alice';

describe(`Claude Code ${CLAUDE_VERSION} with the installed claude-key against the installed claude-key-gateway`, () => {
  const dir = tempDir('claude-code');
  const home = claudeHome(join(dir, 'home'), { apiKeyHelper: HELPER, env: { CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '900000' } });
  let url = '';
  let stop: () => Promise<unknown> = async () => {};
  let gatewayOut = '';

  before(async () => {
    const keygen = await run(node, 'claude-key', ['jwt', 'keygen'], { home });
    assert.equal(keygen.code, 0, keygen.stderr);
    writeFileSync(join(dir, 'jwks.json'), keygen.stdout);
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `listen: { host: 127.0.0.1, port: 8080 }\nstore: { path: memory:// }\nauth:\n  issuers:\n    - { issuer: claude-key, audience: claude-key-gateway, jwksFile: ./jwks.json }\n`,
    );
    const child = spawn('claude-key-gateway', ['serve', '--config', join(dir, 'gateway.yaml'), '--port', '0'], { env: { PATH: pathFor(node), HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((done, fail) => {
      child.stdout.on('data', (d) => {
        gatewayOut += d;
        const m = /"msg":"listening","url":"([^"]+)"/.exec(gatewayOut);
        if (m) done(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`gateway exited with ${code}`)));
    });
    stop = async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    };
  });
  after(() => stop());

  it('answers claude -p through the gateway, the request attributed to the helper-minted user', async () => {
    const r = await claudeP(home, 'Say hello', { PATH: pathFor(node), ANTHROPIC_BASE_URL: url });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.trim().length > 0);
    // The gateway writes info lines in batches, up to 100 ms after the request: claude can exit
    // before its request's line is out, so wait for it (up to 10 s) rather than read once.
    const served = () =>
      gatewayOut
        .split('\n')
        .filter((l) => l.includes('"msg":"request"'))
        .map((l) => JSON.parse(l) as { user: string; team: string; status: number })
        .some((l) => l.user === 'alice' && l.team === 'platform' && l.status === 200);
    for (let i = 0; i < 100 && !served(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(served(), gatewayOut);
  });
});
