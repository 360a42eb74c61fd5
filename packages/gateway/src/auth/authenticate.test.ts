// Where the credential is read from: the configured headers only, one value, Bearer where required.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractCredential } from './authenticate.js';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: { status: number; message: string }) => err.status === 401 && message.test(err.message));

describe('extractCredential', () => {
  it('reads what Claude Code sends: the same token as Bearer and X-Api-Key', () => {
    assert.equal(extractCredential({ authorization: 'Bearer t0k', 'x-api-key': 't0k' }, ['authorization', 'x-api-key']), 't0k');
    assert.equal(extractCredential({ 'x-api-key': 't0k' }, ['authorization', 'x-api-key']), 't0k');
  });

  it('with Proxy-Authorization configured, ignores an Authorization header carrying a cloud token', () => {
    const headers = { authorization: 'Bearer ya29.gcp-user-token', 'proxy-authorization': 'Bearer gateway-token' };
    assert.equal(extractCredential(headers, ['proxy-authorization']), 'gateway-token');
  });

  it('refuses missing, non-Bearer and conflicting credentials with 401', () => {
    refused(() => extractCredential({}, ['authorization', 'x-api-key']), /Missing credential/);
    refused(() => extractCredential({ authorization: 'Basic dTpw' }, ['authorization']), /expected "Bearer <token>"/);
    refused(() => extractCredential({ authorization: 'Bearer a b' }, ['authorization']), /Malformed/);
    refused(() => extractCredential({ authorization: 'Bearer a', 'x-api-key': 'b' }, ['authorization', 'x-api-key']), /Conflicting/);
  });

  it('refuses a repeated credential header even when both copies agree', () => {
    refused(() => extractCredential({ authorization: ['Bearer a', 'Bearer b'] }, ['authorization', 'x-api-key']), /Repeated authorization/);
    refused(() => extractCredential({ 'x-api-key': ['a', 'a'] }, ['authorization', 'x-api-key']), /Repeated x-api-key/);
    assert.equal(extractCredential({ authorization: ['Bearer a'], 'x-api-key': ['a'] }, ['authorization', 'x-api-key']), 'a');
  });
});
