// Option rules of `claude-key oidc`: https only (loopback opt-in), grant requirements, scope lists, the login hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginCommandLine } from './login-hint.js';
import { fetchOptions, scopeList } from './options.js';

const issues = (input: Record<string, unknown>) => {
  const parsed = fetchOptions.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('a plain-http issuer is refused unless allowed, and then only on loopback', () => {
  assert.match(issues({ issuer: 'http://login.example.com', clientId: 'c' })[0]!, /^issuer: the issuer must be https/);
  assert.match(
    issues({ issuer: 'http://login.example.com', clientId: 'c', allowInsecureRequests: true })[0]!,
    /^allowInsecureRequests: plain http is allowed only for loopback/,
  );
  assert.deepEqual(issues({ issuer: 'http://127.0.0.1:8080', clientId: 'c', allowInsecureRequests: true }), []);
  assert.deepEqual(issues({ issuer: 'https://login.example.com', clientId: 'c' }), []);
});

test('client credentials need a client secret reference and cannot print an ID token', () => {
  assert.match(issues({ issuer: 'https://idp.example.com', clientId: 'c', grant: 'client-credentials' }).join('\n'), /clientSecret: the client-credentials grant needs --client-secret/);
  assert.match(
    issues({ issuer: 'https://idp.example.com', clientId: 'c', grant: 'client-credentials', clientSecret: 'env:S', idToken: true }).join('\n'),
    /idToken: the client-credentials grant issues no ID token/,
  );
});

test('defaults: refresh grant, auto storage, basic client auth', () => {
  const o = fetchOptions.parse({ issuer: 'https://idp.example.com', clientId: 'c' });
  assert.equal(o.grant, 'refresh');
  assert.equal(o.storage, 'auto');
  assert.equal(o.clientAuth, 'client_secret_basic');
  assert.equal(o.idToken, false);
});

test('scope values may repeat or be space-separated; duplicates collapse', () => {
  assert.deepEqual(scopeList(['openid offline_access', 'email', 'openid'], []), ['openid', 'offline_access', 'email']);
  assert.deepEqual(scopeList(undefined, ['openid', 'offline_access']), ['openid', 'offline_access']);
});

test('the login hint repeats exactly the options that pick the session', () => {
  const base = { issuer: 'https://login.example.com', clientId: 'claude-code', storage: 'auto', allowInsecureRequests: false };
  assert.equal(loginCommandLine(base), 'claude-key oidc login --issuer https://login.example.com --client-id claude-code');
  assert.equal(
    loginCommandLine({ ...base, scope: ['openid offline_access', 'email'], storage: 'file' }),
    "claude-key oidc login --issuer https://login.example.com --client-id claude-code --scope 'openid offline_access email' --storage file",
  );
});
