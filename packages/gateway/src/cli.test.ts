// The CLI's failure modes: one line on stderr and a distinct exit code, never a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from './cli.js';
import { parseSince } from './gateway.js';

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { code, stdout, stderr };
}

describe('claude-key-gateway CLI', () => {
  it('names the bad config field in one line and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-cli-'));
    writeFileSync(join(dir, 'gw.yaml'), 'listen:\n  port: "http"\n');
    const r = await run(['usage', '--config', join(dir, 'gw.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^claude-key-gateway: .*listen\.port: .*\n$/);
    assert.equal(r.stderr.split('\n').length, 2, 'exactly one line');
  });

  it('refuses a bad --since and an unknown --by with exit 2', async () => {
    assert.equal((await run(['usage', '--since', 'yesterday-ish'])).code, 2);
    assert.equal((await run(['usage', '--by', 'planet'])).code, 2);
  });

  it('reads --since durations with claude-key\'s one duration parser (90m, 1.5h, 7d), and dates as dates', () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    assert.equal(parseSince('90m', now).getTime(), now - 90 * 60_000);
    assert.equal(parseSince('1.5h', now).getTime(), now - 90 * 60_000);
    assert.equal(parseSince('7d', now).getTime(), now - 7 * 86_400_000);
    assert.equal(parseSince('2026-11-01', now).toISOString(), '2026-11-01T00:00:00.000Z');
  });

  it('reports an unreachable database in one line with exit 4', async () => {
    let stderr = '';
    const code = await main(['usage'], { stdout: () => {}, stderr: (t) => (stderr += t), env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    assert.equal(code, 4);
    assert.match(stderr, /^claude-key-gateway: cannot open the store: .*ECONNREFUSED.*\n$/);
  });

  it('shows examples in --help', async () => {
    const r = await run(['serve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n\s+claude-key-gateway serve --config gateway.yaml/);
  });
});
