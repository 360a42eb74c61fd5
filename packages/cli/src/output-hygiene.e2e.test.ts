// The binary's stderr in the user's terms and free of tokens: stale-if-error warnings, provider option errors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '@claude-key/core';
import { runClaudeKey } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'claude-key-hygiene-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { HOME: dir, CLAUDE_KEY_CACHE_DIR: join(dir, 'cache'), CLAUDE_KEY_CONFIG_DIR: join(dir, 'config') };

test('a stale-if-error warning never quotes the cached token, even when the failing source prints it', async () => {
  const token = 'tok-stale-q8w7e6r5';
  const down = join(dir, 'down');
  // Valid for 30 s, so with 60 s of grace it is never fresh enough to serve, but still good to fall back on.
  const script = `if [ -f ${down} ]; then echo "refresh failed; still holding ${token}" >&2; exit 1; fi; echo '{"token":"${token}","expires_in":30}'`;
  const args = ['exec', '--ttl', '0', '--grace', '60s', '--', 'sh', '-c', script];
  const first = await runClaudeKey(args, { env });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${token}\n`);
  writeFileSync(down, '');
  const stale = await runClaudeKey(args, { env });
  assert.equal(stale.code, 0, stale.stderr);
  assert.equal(stale.stdout, `${token}\n`, 'the token goes to stdout once');
  assert.match(stale.stderr, /^claude-key: warning: exec: command "sh" exited with 1: refresh failed; still holding \[redacted\]; serving the cached token \(valid for \d+s more\)\n$/);
  assert.ok(!stale.stderr.includes(token), stale.stderr);
});

test('a missing provider option is one line naming the flag, not a zod path mangled by redaction', async () => {
  const r = await runClaudeKey(['aws'], { env });
  assert.equal(r.code, ExitCode.usage);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'claude-key: aws: --secret-id is required; see claude-key aws --help\n');
});
