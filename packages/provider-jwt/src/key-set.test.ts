// The local key set: file modes, atomic writes, keygen refusing to overwrite, rotation by kid, retire, keychain store.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { isClaudeKeyError } from '@claude-key/core';
import { createTestContext } from '@claude-key/core/testing';
import provider, { jwtCommands } from './index.js';
import { keySetPath } from './key-set.js';
import { memoryKeychain, printedJwks, recordingIO, runCommand, tempDir, verifyAt } from './test-support/fixtures.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const commands = jwtCommands();

async function mint(keysDir: string, secrets: Record<string, string> = {}) {
  return provider.fetch(provider.options.parse({ keysDir }), createTestContext({ now: T0, secrets }));
}

async function jwks(keysDir: string) {
  return printedJwks(await runCommand(commands.jwks, { keysDir }));
}

describe('jwt key set files', () => {
  it('keygen writes the set 0600 in a 0700 directory, leaves no temp file, and prints only public keys', async () => {
    const keysDir = join(await tempDir(), 'nested', 'keys');
    const io = await runCommand(commands.keygen, { keysDir });
    assert.equal((await stat(keysDir)).mode & 0o777, 0o700);
    assert.equal((await stat(keySetPath(keysDir))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(keysDir), ['jwt-keys.json']);
    const printed = printedJwks(io);
    assert.equal(printed.keys.length, 1);
    assert.ok(printed.keys.every((k) => k.d === undefined && k.p === undefined), 'a private member reached stdout');
    assert.ok(!io.err.join('').includes('"d"'));
  });

  it('keygen tightens an existing, too-open key directory to 0700', async () => {
    const keysDir = await tempDir();
    const { chmod } = await import('node:fs/promises');
    await chmod(keysDir, 0o755);
    await runCommand(commands.keygen, { keysDir });
    assert.equal((await stat(keysDir)).mode & 0o777, 0o700);
  });

  it('keygen refuses to overwrite a key with the same kid and leaves the set unchanged', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'k1' });
    const before = await readFile(keySetPath(keysDir), 'utf8');
    await assert.rejects(runCommand(commands.keygen, { keysDir, kid: 'k1' }), (err) => isClaudeKeyError(err) && err.exitCode === 2 && /kid "k1" already exists/.test(err.line));
    assert.equal(await readFile(keySetPath(keysDir), 'utf8'), before);
  });

  it('minting without any key says to run keygen (not found)', async () => {
    const keysDir = await tempDir();
    await assert.rejects(mint(keysDir), (err) => isClaudeKeyError(err) && err.exitCode === 6 && /run `claude-key jwt keygen` first/.test(err.line));
  });

  it('a damaged key set is a config error that does not echo the file', async () => {
    const keysDir = await tempDir();
    await writeFile(keySetPath(keysDir), '{"keys": [ {"d": "SECRETSECRET"', { mode: 0o600 });
    await assert.rejects(mint(keysDir), (err) => isClaudeKeyError(err) && err.exitCode === 2 && /is damaged/.test(err.line) && !err.line.includes('SECRET'));
  });

  it('keys lists every kid with its algorithm and marks the active one', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'old', alg: 'EdDSA' });
    await runCommand(commands.keygen, { keysDir, kid: 'new' });
    const lines = (await runCommand(commands.keys, { keysDir })).out.join('').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split('\t').filter((_, i) => i !== 2)), [
      ['old', 'EdDSA', 'file'],
      ['new', 'ES256', 'file', 'active'],
    ]);
  });
});

describe('jwt key rotation by kid', () => {
  it('a token signed with the old kid still verifies after keygen of a new key, and not after retire', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'k-2026-01' });
    const oldToken = (await mint(keysDir)).token;

    const afterKeygen = printedJwks(await runCommand(commands.keygen, { keysDir, kid: 'k-2026-02' }));
    assert.deepEqual(afterKeygen.keys.map((k) => k.kid), ['k-2026-01', 'k-2026-02']);
    const newToken = (await mint(keysDir)).token;
    assert.equal(decodeProtectedHeader(newToken).kid, 'k-2026-02');
    await verifyAt(oldToken, afterKeygen, T0);
    await verifyAt(newToken, afterKeygen, T0);

    await runCommand(commands.retire, { keysDir, kid: 'k-2026-01' });
    const afterRetire = await jwks(keysDir);
    assert.deepEqual(afterRetire.keys.map((k) => k.kid), ['k-2026-02']);
    await assert.rejects(verifyAt(oldToken, afterRetire, T0), /no applicable key found/);
    await verifyAt(newToken, afterRetire, T0);
  });

  it('keygen --no-activate stages a key: published in the JWKS, signing only after activate', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'current' });
    const io = await runCommand(commands.keygen, { keysDir, kid: 'next', activate: false });
    assert.match(io.err.join(''), /run: claude-key jwt activate next/);
    assert.deepEqual(printedJwks(io).keys.map((k) => k.kid), ['current', 'next']);
    assert.equal(decodeProtectedHeader((await mint(keysDir)).token).kid, 'current');
    await runCommand(commands.activate, { keysDir, kid: 'next' });
    assert.equal(decodeProtectedHeader((await mint(keysDir)).token).kid, 'next');
  });

  it('the first key is active even with --no-activate (there is nothing else to sign with)', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'only', activate: false });
    assert.equal(decodeProtectedHeader((await mint(keysDir)).token).kid, 'only');
  });

  it('--kid mints with a named key of the set instead of the active one', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'a' });
    await runCommand(commands.keygen, { keysDir, kid: 'b' });
    const credential = await provider.fetch(provider.options.parse({ keysDir, kid: 'a' }), createTestContext({ now: T0 }));
    assert.equal(decodeProtectedHeader(credential.token).kid, 'a');
  });

  it('retire refuses the active key and unknown kids', async () => {
    const keysDir = await tempDir();
    await runCommand(commands.keygen, { keysDir, kid: 'live' });
    await assert.rejects(runCommand(commands.retire, { keysDir, kid: 'live' }), (err) => isClaudeKeyError(err) && /key live is the active key; activate another key first/.test(err.line));
    await assert.rejects(runCommand(commands.retire, { keysDir, kid: 'ghost' }), (err) => isClaudeKeyError(err) && err.exitCode === 6);
    await assert.rejects(runCommand(commands.activate, { keysDir, kid: 'ghost' }), /no JWT key with kid "ghost"/);
  });
});

describe('jwt keygen --store keychain', () => {
  it('puts the private key in the keychain, keeps only a reference in the file, and mints through ctx.secret', async () => {
    const keysDir = await tempDir();
    const keychain = memoryKeychain();
    const withKeychain = jwtCommands(keychain);
    const io = await runCommand(withKeychain.keygen, { keysDir, kid: 'kc', store: 'keychain' }, recordingIO());
    const ref = 'keychain:claude-key-jwt/kc';
    assert.ok(keychain.secrets[ref]?.includes('"d"'), 'the private key is not in the keychain');
    const file = await readFile(keySetPath(keysDir), 'utf8');
    assert.ok(!file.includes('"d"'), 'the private key was written to the file too');
    assert.ok(file.includes(ref));
    const credential = await mint(keysDir, keychain.secrets);
    assert.equal(credential.meta?.source, 'keychain');
    await verifyAt(credential.token, printedJwks(io), T0);

    await runCommand(withKeychain.keygen, { keysDir, kid: 'kc2', store: 'keychain' });
    await runCommand(withKeychain.retire, { keysDir, kid: 'kc' });
    assert.equal(keychain.secrets[ref], undefined, 'retire left the private key in the keychain');
  });
});
