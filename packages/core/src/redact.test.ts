// The one redaction function: registered secrets and credential-shaped text never reach stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearRegisteredSecrets, redact, registerSecret } from './redact.js';

test('masks every occurrence of a registered secret, whatever its shape', () => {
  clearRegisteredSecrets();
  registerSecret('plain-looking-value-42');
  assert.equal(redact('a plain-looking-value-42 b plain-looking-value-42'), 'a [redacted] b [redacted]');
});

test('masks credential shapes it never saw: JWTs, bearer headers, key=value secrets, vendor key prefixes', () => {
  clearRegisteredSecrets();
  const cases: [string, string][] = [
    ['token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl here', 'token [redacted] here'],
    ['Authorization: Bearer abcdefghijklmnop', 'Authorization: [redacted]'],
    ['api_key=0123456789abcdef&x=1', 'api_key=[redacted]&x=1'],
    ['"client_secret": "s3cr3t-v4lu3"', '"client_secret": "[redacted]"'],
    ['key sk-ant-api03-abcdefghijkl', 'key [redacted]'],
    ['vault hvs.CAESIabcdefghijklmnopqrstuv', 'vault [redacted]'],
  ];
  for (const [input, expected] of cases) assert.equal(redact(input), expected, input);
});

test('leaves ordinary diagnostics alone', () => {
  clearRegisteredSecrets();
  const line = 'profile work (vault): permission denied on secret/data/litellm; check the policy';
  assert.equal(redact(line), line);
});

test('ignores registered values too short to be credentials (they would mask ordinary words)', () => {
  clearRegisteredSecrets();
  registerSecret('abc');
  assert.equal(redact('abc def'), 'abc def');
});

test('leaves a secret-named key followed by ordinary words alone (the aws error "secretId: Invalid input")', () => {
  clearRegisteredSecrets();
  for (const line of [
    'aws: --secret-id: Invalid input: expected string, received undefined',
    'secretId: Invalid input',
    'token: expired; run oidc login',
    'password: required',
    'the server wants basic authentication here',
  ]) {
    assert.equal(redact(line), line);
  }
  assert.equal(redact('password: hunter22'), 'password: [redacted]');
  assert.equal(redact('secret=AbCdEfGhIjKlMn'), 'secret=[redacted]');
  assert.equal(redact('Authorization: Basic dXNlcjpwYXNz'), 'Authorization: [redacted]');
});
