// Unit tests for turning SecretString / SecretBinary into a one-line token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, isClaudeKeyError } from '@claude-key/core';
import { binaryToText, pickJsonKey, secretToToken } from './secret-value.js';

const exitOf = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    assert.ok(isClaudeKeyError(err));
    return err.exitCode;
  }
  return assert.fail('expected a throw');
};

test('binary: one line of UTF-8 (trailing newline dropped) is text; newlines, NUL or invalid bytes force base64', () => {
  assert.deepEqual(binaryToText(Buffer.from('héllo\n')), { text: 'héllo', encoding: 'utf8' });
  assert.equal(binaryToText(Buffer.from('a\nb')).encoding, 'base64');
  assert.equal(binaryToText(Buffer.from('a\0b')).encoding, 'base64');
  assert.deepEqual(binaryToText(Uint8Array.from([0xc3, 0x28])), { text: 'wyg=', encoding: 'base64' });
  assert.equal(binaryToText(new Uint8Array()).encoding, 'base64');
});

test('json key: picks strings and scalars; rejects non-JSON, arrays and object values as usage errors', () => {
  const raw = JSON.stringify({ a: 'x', n: 1, b: true, o: { deep: 1 }, z: null });
  assert.equal(pickJsonKey(raw, 'a', 'secret'), 'x');
  assert.equal(pickJsonKey(raw, 'b', 'secret'), 'true');
  assert.equal(exitOf(() => pickJsonKey(raw, 'o', 'secret')), ExitCode.usage);
  assert.equal(exitOf(() => pickJsonKey(raw, 'z', 'secret')), ExitCode.usage);
  assert.equal(exitOf(() => pickJsonKey('not json', 'a', 'secret')), ExitCode.usage);
  assert.equal(exitOf(() => pickJsonKey('[1]', 'a', 'secret')), ExitCode.usage);
  assert.equal(exitOf(() => pickJsonKey(raw, 'toString', 'secret')), ExitCode.notFound, 'inherited names are not keys');
});

test('token: a JSON key works on a binary secret too; an empty value is NotFound', () => {
  assert.equal(secretToToken({ SecretBinary: Buffer.from('{"k":"v"}') }, 'k', 's').token, 'v');
  assert.equal(exitOf(() => secretToToken({ SecretString: '' }, undefined, 's')), ExitCode.notFound);
  assert.equal(exitOf(() => secretToToken({}, undefined, 's')), ExitCode.notFound);
  assert.equal(secretToToken({ SecretString: 'tok\n' }, undefined, 's').token, 'tok');
});
