// The real Claude Code CLI (2.1.328) running the built claude-key as its apiKeyHelper against a local Messages API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMockUpstream, MOCK_REPLY, type MockUpstream } from '../packages/gateway/src/upstreams/mock.js';
import { CLAUDE_VERSION, REPO, claudeHome, claudeP as runClaudeP } from './support/claude-code.js';

const CLAUDE_KEY = join(REPO, 'packages/cli/dist/claude-key.cjs');

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  apiKey?: string;
}

/**
 * A Messages API front that records the credential headers of every request and refuses the
 * tokens in `refuse` with Anthropic's 401 shape; everything else goes to the mock upstream.
 */
async function startFront(mock: MockUpstream, refuse: Set<string>): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bearer = req.headers.authorization?.replace(/^Bearer /, '');
    seen.push({ method: req.method!, url: req.url!, ...(bearer ? { authorization: bearer } : {}), ...(req.headers['x-api-key'] ? { apiKey: String(req.headers['x-api-key']) } : {}) });
    if (req.method === 'HEAD' || req.method === 'GET') {
      res.writeHead(200).end();
      return;
    }
    if (bearer && refuse.has(bearer)) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'token refused by test front' } }));
      return;
    }
    const upstream = await fetch(mock.url + req.url, {
      method: req.method!,
      headers: { 'content-type': 'application/json', 'anthropic-version': String(req.headers['anthropic-version'] ?? '2023-06-01') },
      body: Buffer.concat(chunks),
    });
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe(`Claude Code ${CLAUDE_VERSION} with claude-key as apiKeyHelper`, () => {
  let dir: string;
  let mock: MockUpstream;

  before(async () => {
    assert.ok(existsSync(CLAUDE_KEY), 'build first: ./scripts/pnpm build');
    dir = mkdtempSync(join(tmpdir(), 'ck-claude-'));
    mock = await startMockUpstream();
  });
  after(async () => {
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A HOME whose apiKeyHelper is claude-key exec over a script that mints a new token per run. */
  function mintingHome(name: string): { home: string; minted: () => string[] } {
    const home = join(dir, name);
    mkdirSync(home, { recursive: true });
    const log = join(home, 'minted');
    writeFileSync(
      join(home, 'mint.sh'),
      `#!/bin/sh\nt="tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \\n')"\necho "$t" >> ${log}\necho "$t"\n`,
      { mode: 0o755 },
    );
    const helper = `${process.execPath} ${CLAUDE_KEY} exec -- ${join(home, 'mint.sh')}`;
    claudeHome(home, { apiKeyHelper: helper });
    return { home, minted: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
  }

  const claudeP = (home: string, baseUrl: string, prompt: string) =>
    runClaudeP(home, prompt, {
      ANTHROPIC_BASE_URL: baseUrl,
      CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '600000',
      CLAUDE_KEY_CACHE_DIR: join(home, 'ck-cache'),
    });

  it('sends the helper token as both Authorization: Bearer and X-Api-Key', async () => {
    const front = await startFront(mock, new Set());
    try {
      const { home, minted } = mintingHome('both-headers');
      const r = await claudeP(home, front.url, 'Say hello');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(MOCK_REPLY.slice(0, 20)));
      const posts = front.seen.filter((s) => s.method === 'POST' && s.url.startsWith('/v1/messages'));
      assert.ok(posts.length >= 1);
      const [token] = minted();
      assert.ok(token);
      for (const p of posts) {
        assert.equal(p.authorization, token);
        assert.equal(p.apiKey, token);
      }
    } finally {
      front.server.close();
    }
  });

  it('after a 401, Claude Code re-runs the helper and the retry carries a different, fresh token', async () => {
    const refused = new Set<string>();
    const front = await startFront(mock, refused);
    try {
      const { home, minted } = mintingHome('refusal');
      // Warm the cache from outside Claude Code, then refuse exactly that token.
      // Same context as the helper inside Claude Code: the cache identity holds the working
      // directory (exec) and where the token goes (ANTHROPIC_BASE_URL).
      const warm = spawn(process.execPath, [CLAUDE_KEY, 'exec', '--', join(home, 'mint.sh')], {
        cwd: home,
        env: { ...process.env, HOME: home, ANTHROPIC_BASE_URL: front.url, CLAUDE_KEY_CACHE_DIR: join(home, 'ck-cache'), CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '600000' },
      });
      let first = '';
      warm.stdout.on('data', (d) => (first += d));
      await once(warm, 'exit');
      first = first.trim();
      assert.ok(first.startsWith('tok-'));
      refused.add(first);

      const r = await claudeP(home, front.url, 'Say hello');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(MOCK_REPLY.slice(0, 20)));
      const posts = front.seen.filter((s) => s.method === 'POST' && s.url.startsWith('/v1/messages'));
      const tokens = posts.map((p) => p.authorization);
      assert.equal(tokens[0], first, 'Claude Code first used the cached token');
      const retried = tokens.find((t) => t !== first);
      assert.ok(retried, `a request with a fresh token followed the 401 (saw ${tokens.length} requests)`);
      assert.deepEqual(minted(), [first, retried], 'the helper minted exactly one new token, on the refusal');
      assert.ok(!r.stderr.includes(first) && !r.stdout.includes(first));
    } finally {
      front.server.close();
    }
  });
});
