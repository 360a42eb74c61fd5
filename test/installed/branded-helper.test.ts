// A platform team's branded helper made outside the monorepo: a fresh npm project on the published @claude-key/core.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODES, NPMRC, NPM_CACHE, pathFor, run, tempDir } from './support.js';

const node = NODES[0]!;

describe('a branded helper (acme-key) built on the published @claude-key/core', () => {
  const dir = tempDir('branded');
  const project = join(dir, 'acme-key');
  const prefix = join(dir, 'prefix');
  const home = join(dir, 'home');
  let issued = 0;
  const tokens = createServer((req, res) => {
    if (req.headers.authorization !== 'Device dev-key-123') return void res.writeHead(401).end();
    issued++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `acme-${issued}-token`, expires_in: 3600 }));
  });
  let tokenUrl = '';

  before(async () => {
    tokens.listen(0, '127.0.0.1');
    await once(tokens, 'listening');
    tokenUrl = `http://127.0.0.1:${(tokens.address() as AddressInfo).port}/v1/claude`;
    mkdirSync(join(project, 'bin'), { recursive: true });
    mkdirSync(home);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'acme-key', version: '1.0.0', type: 'module', bin: { 'acme-key': './bin/acme-key.js' }, dependencies: { '@claude-key/core': '^0.1.0', zod: '^4.1.0' } }, null, 2),
    );
    writeFileSync(
      join(project, 'provider.js'),
      `import { z } from 'zod';
import { AuthError, UnreachableError, defineProvider, zSecretRef } from '@claude-key/core';

export default defineProvider({
  name: 'token-service',
  summary: "Acme's token service",
  options: z.object({
    url: z.url().describe('token service endpoint'),
    deviceKey: zSecretRef('the device credential'),
  }),
  secretOptions: ['deviceKey'],
  // What the token depends on: the endpoint, and the device key by reference (name and value hash).
  identity: (o, id) => ({ inputs: id.options(o, { refs: ['deviceKey'] }) }),
  async fetch(options, ctx) {
    const res = await fetch(options.url, { method: 'POST', headers: { authorization: 'Device ' + (await ctx.secret(options.deviceKey)) }, signal: ctx.signal });
    if (res.status === 401) throw new AuthError('the token service refused this device');
    if (!res.ok) throw new UnreachableError('token service answered HTTP ' + res.status);
    const body = await res.json();
    return { token: body.access_token, expiresAt: ctx.now() + body.expires_in * 1000 };
  },
});
`,
    );
    writeFileSync(
      join(project, 'bin/acme-key.js'),
      `#!/usr/bin/env node
import { createHelper } from '@claude-key/core';

const acmeKey = createHelper({
  name: 'acme-key',
  version: '1.0.0',
  description: "Acme's credential helper for Claude Code",
  providers: [{ name: 'token-service', summary: "Acme's token service", load: () => import('../provider.js') }],
});
process.exitCode = await acmeKey.run();
`,
    );
    const npm = (args: string[], cwd: string) =>
      execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error', '--cache', NPM_CACHE, '--prefer-offline'], {
        cwd,
        env: { PATH: pathFor(node), HOME: home, NPM_CONFIG_USERCONFIG: NPMRC, npm_config_update_notifier: 'false' },
        encoding: 'utf8',
      });
    npm(['install'], project);
    const tarball = npm(['pack', '--pack-destination', dir], project).trim().split('\n').pop()!;
    npm(['install', '-g', '--prefix', prefix, join(dir, tarball)], dir);
  });
  after(() => tokens.close());

  for (const runtime of NODES) {
    it(`installs like any npm CLI and prints the token once, then serves it from its own cache, on Node ${runtime.major}`, async () => {
      const own = join(dir, `home-${runtime.major}`);
      mkdirSync(own);
      const acme = (args: string[]) => run(runtime, join(prefix, 'bin/acme-key'), args, { home: own, env: { DEVICE: 'dev-key-123' } });
      const args = ['token-service', '--url', tokenUrl, '--device-key', 'env:DEVICE'];
      const before = issued;
      const first = await acme(args);
      assert.deepEqual(first, { code: 0, stdout: `acme-${before + 1}-token\n`, stderr: '' });
      assert.deepEqual(await acme(args), first);
      assert.equal(issued, before + 1);
      // One token entry in its own cache dir (beside it, the invocation's identity record: `.id.json`).
      const files = readdirSync(join(own, '.cache/acme-key'));
      assert.equal(files.filter((n) => n.endsWith('.json') && !n.endsWith('.id.json')).length, 1, files.join(' '));
    });
  }

  it('has its own --help and exit codes', async () => {
    const help = await run(node, join(prefix, 'bin/acme-key'), ['--help'], { home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /acme-key/);
    assert.match(help.stdout, /token-service/);
    const refused = await run(node, join(prefix, 'bin/acme-key'), ['token-service', '--url', tokenUrl, '--device-key', 'env:DEVICE', '--no-cache'], { home, env: { DEVICE: 'wrong' } });
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /refused this device/);
  });
});
