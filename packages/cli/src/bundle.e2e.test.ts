// The built claude-key binary (dist/claude-key.cjs and its dist/full/ chunks) reads every config format.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { CLI_BIN, runClaudeKey } from './testing.js';

describe('the bundled claude-key binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ck-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { CLAUDE_KEY_CACHE_DIR: join(dir, 'cache'), CLAUDE_KEY_CONFIG_DIR: join(dir, 'config'), TEAM_TOKEN: 'tok-from-env' };

  it('serves a profile from a YAML config file', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'defaults:\n  timeout: 8s\nprofiles:\n  work:\n    provider: env\n    name: TEAM_TOKEN\n');
    const run = await runClaudeKey(['--config', config, '--profile', 'work'], { env });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, 'tok-from-env\n');
    assert.equal(run.code, 0);
  });

  it('serves a profile from a JSON config file', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ profiles: { work: { provider: 'env', name: 'TEAM_TOKEN' } } }));
    const run = await runClaudeKey(['--config', config, '--profile', 'work', '--no-cache'], { env });
    assert.equal(run.stdout, 'tok-from-env\n', run.stderr);
    assert.equal(run.code, 0);
  });

  it('reports a YAML syntax error as a config error (exit 2), naming the file', async () => {
    const config = join(dir, 'broken.yaml');
    writeFileSync(config, 'profiles: [unclosed\n');
    const run = await runClaudeKey(['--config', config, '--profile', 'work'], { env });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /broken\.yaml is not valid YAML/);
    assert.doesNotMatch(run.stderr, /is not a function/);
  });

  it('ends quietly when the reader closes the pipe early (claude-key --help | head -1)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI_BIN}" --help | head -1`], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    assert.equal(r.stdout, 'Usage: claude-key [options] [command]\n');
    assert.equal(r.stderr, '');
  });
});
