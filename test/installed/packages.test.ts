// What npm installed of ours: real version ranges (no workspace:), engines, license, repository, and no build leftovers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';
import { NODES, prefixFor } from './support.js';

const modules = join(prefixFor(NODES[0]!), 'lib/node_modules');

/** Every copy of claude-key and @claude-key/* in the installed tree, wherever npm placed it. */
function ours(dir: string, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === '.bin') continue;
    const path = join(dir, name);
    if (name === '@claude-key') for (const pkg of readdirSync(path)) found.push(join(path, pkg)), nested(join(path, pkg), found);
    else if (name === 'claude-key') found.push(path), nested(path, found);
    else if (name.startsWith('@')) for (const pkg of readdirSync(path)) nested(join(path, pkg), found);
    else nested(path, found);
  }
  return found;
}
function nested(pkg: string, found: string[]) {
  const inner = join(pkg, 'node_modules');
  if (statSync(inner, { throwIfNoEntry: false })?.isDirectory()) ours(inner, found);
}

function files(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files(path, out);
    else out.push(path);
  }
  return out;
}

it('installs claude-key, the gateway and every provider with real dependency ranges, engines and no build leftovers', () => {
  const pkgs = [...new Set(ours(modules))];
  const names = new Set(pkgs.map((p) => (JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { name: string }).name));
  for (const name of ['claude-key', '@claude-key/core', '@claude-key/gateway', '@claude-key/api-formats', '@claude-key/provider-vault', '@claude-key/provider-aws', '@claude-key/provider-keychain', '@claude-key/provider-gcp', '@claude-key/provider-jwt', '@claude-key/provider-oidc']) {
    assert.ok(names.has(name), `${name} is installed`);
  }
  for (const pkg of pkgs) {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, Record<string, string> | string | undefined>;
    const deps = { ...(manifest.dependencies as Record<string, string>) };
    assert.deepEqual(Object.entries(deps).filter(([, range]) => range.startsWith('workspace:')), [], `${manifest.name}: no workspace: ranges`);
    assert.ok((manifest.engines as Record<string, string>)?.node, `${manifest.name}: engines.node`);
    assert.ok(manifest.license && manifest.repository, `${manifest.name}: license and repository`);
    const leftovers = files(pkg).map((f) => relative(pkg, f)).filter((f) => /\.map$|tsbuildinfo|\.test\.|test-support|(^|\/)testing\.(js|d\.ts)$|(^|\/)src\//.test(f) && !/^dist\/testing\./.test(f));
    assert.deepEqual(leftovers, [], `${manifest.name} ships no build leftovers`);
  }
});
