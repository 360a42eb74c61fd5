// The gateway's own upstream key from env, a file, or a claude-key profile (a stand-in binary here).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExitCode } from '@claude-key/core';
import { secretSource } from './secret.js';

describe('upstream key references', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-secret-'));

  it('reads env: and file: references', async () => {
    assert.equal(await secretSource('env:UP_KEY', { env: { UP_KEY: 'k-env' }, claudeKeyBinary: '', field: 'f' }).get(), 'k-env');
    writeFileSync(join(dir, 'key'), 'k-file\n', { mode: 0o600 });
    assert.equal(await secretSource(`file:${join(dir, 'key')}`, { env: {}, claudeKeyBinary: '', field: 'f' }).get(), 'k-file');
    await assert.rejects(secretSource('env:NOPE', { env: {}, claudeKeyBinary: '', field: 'upstreams.a.apiKey' }).get(), /upstreams\.a\.apiKey: environment variable NOPE is not set/);
  });

  it('resolves references as claude-key does: ~ expanded, trimmed, and a missing file or variable is exit 6 naming the field', async () => {
    writeFileSync(join(dir, 'home-key'), '  k-home \n', { mode: 0o600 });
    assert.equal(await secretSource('file:~/home-key', { env: { HOME: dir }, claudeKeyBinary: '', field: 'f' }).get(), 'k-home');
    assert.equal(await secretSource('env:PADDED', { env: { PADDED: ' k-padded\n' }, claudeKeyBinary: '', field: 'f' }).get(), 'k-padded');
    const missing = (err: unknown) => (err as { exitCode?: number }).exitCode === ExitCode.notFound;
    await assert.rejects(secretSource('file:~/none', { env: { HOME: dir }, claudeKeyBinary: '', field: 'upstreams.a.apiKey' }).get(), (err: Error) =>
      missing(err) && err.message === `upstreams.a.apiKey: secret file ${join(dir, 'none')} does not exist`);
    await assert.rejects(secretSource('env:NOPE', { env: {}, claudeKeyBinary: '', field: 'f' }).get(), missing);
  });

  it('runs claude-key --profile NAME, re-reads it after invalidate, and never echoes its output on failure', async () => {
    const bin = join(dir, 'claude-key');
    writeFileSync(bin, `#!/bin/sh\n[ "$1" = "--profile" ] && [ "$2" = "vault-anthropic" ] || exit 2\necho "k-profile-$(cat ${dir}/n 2>/dev/null)"\n`);
    chmodSync(bin, 0o755);
    writeFileSync(join(dir, 'n'), '1');
    const source = secretSource('profile:vault-anthropic', { env: {}, claudeKeyBinary: bin, field: 'f' });
    assert.equal(await source.get(), 'k-profile-1');
    writeFileSync(join(dir, 'n'), '2');
    assert.equal(await source.get(), 'k-profile-1', 'cached');
    source.invalidate();
    assert.equal(await source.get(), 'k-profile-2');
    await assert.rejects(secretSource('profile:other', { env: {}, claudeKeyBinary: bin, field: 'f' }).get(), (err: Error) => /exit code 2/.test(err.message) && !/k-profile/.test(err.message));
  });

  it('re-reads a rotated file key off the request path and keeps the last good value when a read fails', async () => {
    let clock = 0;
    const file = join(dir, 'rotating');
    writeFileSync(file, 'k-old\n');
    const source = secretSource(`file:${file}`, { env: {}, claudeKeyBinary: '', field: 'f', now: () => clock });
    assert.equal(await source.get(), 'k-old');
    writeFileSync(file, 'k-new\n');
    clock += 5 * 60_000;
    assert.equal(await source.get(), 'k-old', 'the stale value answers at once while the file is re-read');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await source.get(), 'k-new');
    rmSync(file);
    clock += 5 * 60_000;
    assert.equal(await source.get(), 'k-new');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await source.get(), 'k-new', 'an unreadable file keeps the last good key');
  });
});
