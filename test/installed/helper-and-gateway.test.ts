// The installed claude-key and claude-key-gateway on every supported Node: a YAML profile, each provider's help, JWT minting, a served request.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NODES, prefixFor, describeName, pathFor, run, tempDir, type NodeRuntime } from './support.js';

const PROVIDERS = ['vault', 'aws', 'aws-credentials', 'keychain', 'gcp', 'jwt', 'oidc', 'env', 'file', 'exec'];
const MODEL = 'claude-opus-4-5';

/** Starts the installed gateway on a YAML config; resolves with its URL and a stop() giving the exit code. */
async function serve(node: NodeRuntime, home: string, config: string) {
  const child = spawn('claude-key-gateway', ['serve', '--config', config, '--port', '0'], { cwd: home, env: { PATH: pathFor(node), HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), fail(new Error(`gateway did not start: ${err}`))), 90_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
      if (m) clearTimeout(timer), done(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`gateway exited with ${code}: ${err}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
}

/** One raw request on its own connection; everything the server sent until it closed. */
function rawRequest(url: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(text.slice(0, 200))}`)));
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

for (const node of NODES) {
  describe(`installed claude-key and claude-key-gateway ${describeName(node)}`, () => {
    const dir = tempDir(`node${node.major}`);
    const home = join(dir, 'home');
    mkdirSync(home);
    const ck = (args: string[], env: Record<string, string> = {}) => run(node, 'claude-key', args, { home, env });
    const gw = (args: string[]) => run(node, 'claude-key-gateway', args, { home });

    it('runs on this Node, from the install prefix', async () => {
      const r = await run(node, 'node', ['-p', 'process.version'], { home });
      assert.equal(r.stdout.trim(), node.version);
      const v = await ck(['--version']);
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
      const which = await run(node, 'sh', ['-c', 'command -v claude-key'], { home });
      assert.equal(which.stdout.trim(), join(prefixFor(node), 'bin/claude-key'), 'the install npm made with this Node');
    });

    it('serves a profile from ~/.config/claude-key/config.yaml', async () => {
      mkdirSync(join(home, '.config/claude-key'), { recursive: true });
      writeFileSync(join(home, '.config/claude-key/config.yaml'), 'defaults:\n  timeout: 8s\nprofiles:\n  work:\n    provider: env\n    name: TEAM_TOKEN\n    max-age: 10m\n');
      const r = await ck(['--profile', 'work'], { TEAM_TOKEN: 'tok-yaml-profile' });
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, 'tok-yaml-profile\n');
      assert.equal(r.code, 0);
    });

    it("shows every provider's --help", async () => {
      for (const provider of PROVIDERS) {
        const r = await ck([provider, '--help']);
        assert.equal(r.code, 0, `${provider}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`Usage: claude-key ${provider}\\b`), provider);
      }
    });

    it('mints a per-user JWT with jwt keygen and jwt, and the gateway serves a request with it from a YAML config', async () => {
      const keygen = await ck(['jwt', 'keygen']);
      assert.equal(keygen.code, 0, keygen.stderr);
      const jwks = JSON.parse(keygen.stdout) as { keys: { kid: string }[] };
      assert.equal(jwks.keys.length, 1);
      writeFileSync(join(dir, 'jwks.json'), keygen.stdout);
      const mint = await ck(['jwt', '--aud', 'claude-key-gateway', '--team', 'platform', '--sub', 'alice']);
      assert.equal(mint.code, 0, mint.stderr);
      const token = mint.stdout.trim();
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims.aud, 'claude-key-gateway');
      assert.equal(claims.team, 'platform');

      const config = join(dir, 'gateway.yaml');
      writeFileSync(
        config,
        [
          'listen: { host: 127.0.0.1, port: 8080 }',
          `store: { path: ${join(dir, 'gateway-data')}, flushIntervalMs: 50 }`,
          'auth:',
          '  issuers:',
          '    - { issuer: claude-key, audience: claude-key-gateway, jwksFile: ./jwks.json }',
          'upstreams: { mock: { type: mock } }',
          'routes: [ { model: "claude-*", upstream: mock } ]',
          '',
        ].join('\n'),
      );
      const gateway = await serve(node, home, config);
      try {
        // A request line whose target is no URL once stopped the built gateway (an uncaught URL parse).
        const noUrl = await rawRequest(gateway.url, 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.match(noUrl, /^HTTP\/1\.1 404 /);
        const res = await fetch(`${gateway.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
          body: JSON.stringify({ model: MODEL, max_tokens: 32, messages: [{ role: 'user', content: 'Say hello' }] }),
        });
        assert.equal(res.status, 200, await res.clone().text());
        const body = (await res.json()) as { type: string; content: { text: string }[] };
        assert.equal(body.type, 'message');
        const refused = await fetch(`${gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(refused.status, 401);
      } finally {
        assert.equal(await gateway.stop(), 0);
      }
      const usage = await gw(['usage', '--by', 'user', '--since', '1h', '--config', config]);
      assert.equal(usage.code, 0, usage.stderr);
      assert.match(usage.stdout, /^alice\s+1\s/m);
      const verify = await gw(['audit', 'verify', '--config', config]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    });
  });
}
