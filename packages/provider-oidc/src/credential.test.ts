// Expiry and token choice: expires_in from the injected clock, a JWT's exp as the fallback, ID token on request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isClaudeKeyError } from '@claude-key/core';
import { credentialFrom } from './credential.js';

const NOW = Date.UTC(2026, 5, 1);
const unsignedJwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"ES256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const choice = { idToken: false, issuer: 'https://idp.example.com', requestedAt: NOW };

test('expires_in counts from when the request was sent (the injected clock)', () => {
  const c = credentialFrom({ access_token: 'opaque-token', expires_in: 300 }, choice);
  assert.equal(c.token, 'opaque-token');
  assert.equal(c.expiresAt, NOW + 300_000);
});

test("without expires_in a JWT access token's exp is the expiry; an opaque one has none", () => {
  const exp = NOW / 1000 + 900;
  assert.equal(credentialFrom({ access_token: unsignedJwt({ exp }) }, choice).expiresAt, exp * 1000);
  assert.equal(credentialFrom({ access_token: 'opaque-token' }, choice).expiresAt, undefined);
});

test('--id-token returns the ID token with its own exp, not the access token lifetime', () => {
  const exp = NOW / 1000 + 120;
  const idToken = unsignedJwt({ exp, sub: 'alice' });
  const c = credentialFrom({ access_token: 'a', expires_in: 3600, id_token: idToken }, { ...choice, idToken: true });
  assert.equal(c.token, idToken);
  assert.equal(c.expiresAt, exp * 1000);
});

test('--id-token without an ID token in the answer says to request the openid scope', () => {
  assert.throws(
    () => credentialFrom({ access_token: 'a', expires_in: 60 }, { ...choice, idToken: true }),
    (err) => isClaudeKeyError(err) && err.exitCode === 3 && /request the openid scope/.test(err.line),
  );
});
