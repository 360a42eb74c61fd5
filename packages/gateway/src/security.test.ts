// Security cases: each bad credential or request gets the right status and nothing reaches the upstream.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, base64url } from 'jose';
import { createHmac } from 'node:crypto';
import { hashApiKey } from './auth/api-keys.js';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';
import { TEST_AUDIENCE, TEST_ISSUER } from './test-support/keys.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const nowSec = NOW / 1000;
const SERVICE_KEY = 'ckg_service_account_key_0123456789';

describe('security: refused requests never reach the upstream', () => {
  let t: TestGateway;
  let clock = NOW;

  before(async () => {
    t = await startTestGateway(
      {
        maxBodyBytes: 4096,
        auth: {
          apiKeys: [{ id: 'ci', sha256: hashApiKey(SERVICE_KEY), user: 'ci-bot', team: 'platform' }],
          revoked: ['jti-revoked'],
        },
        policies: { teams: { eng: { models: ['claude-sonnet-*'] } } },
      },
      { now: () => clock },
    );
  });
  after(() => t.close());

  const post = (headers: Record<string, string>, body: string | Buffer = JSON.stringify(messagesBody())) =>
    fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body });

  /** Sends the request and checks status, Anthropic error shape and that the mock saw nothing. */
  async function expectRefused(res: Promise<Response>, status: number, type: string, message?: RegExp) {
    const before = t.mock.count;
    const r = await res;
    const body = (await r.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(r.status, status, body.error?.message);
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, type);
    if (message) assert.match(body.error.message, message);
    assert.equal(t.mock.count, before, 'the upstream must not have been called');
    return { r, body };
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('accepts a valid token (baseline), so the refusals below are about the credential', async () => {
    const before = t.mock.count;
    const r = await post(bearer(await t.issuer.sign({}, { nowSec })));
    assert.equal(r.status, 200);
    assert.equal(t.mock.count, before + 1);
  });

  it('refuses alg "none" with 401', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'alice', exp: nowSec + 300, iat: nowSec }));
    await expectRefused(post(bearer(`${header}.${payload}.`)), 401, 'authentication_error', /algorithm|Malformed|unverifiable/);
  });

  it('refuses a token signed by another key with the trusted kid with 401', async () => {
    const other = await generateKeyPair('ES256');
    await expectRefused(post(bearer(await t.issuer.sign({}, { nowSec, key: other.privateKey }))), 401, 'authentication_error', /signature/);
  });

  it('refuses a wrong audience and a wrong issuer with 401', async () => {
    await expectRefused(post(bearer(await t.issuer.sign({ aud: 'someone-else' }, { nowSec }))), 401, 'authentication_error', /"aud"/);
    await expectRefused(post(bearer(await t.issuer.sign({ iss: 'https://evil.test' }, { nowSec }))), 401, 'authentication_error', /issuer/);
  });

  it('refuses an expired token with 401 (never 403: Claude Code re-runs its helper only on 401)', async () => {
    const token = await t.issuer.sign({}, { nowSec: nowSec - 3600, ttlSec: 300 });
    await expectRefused(post(bearer(token)), 401, 'authentication_error', /expired/);
  });

  it('allows the configured clock skew and no more', async () => {
    const justExpired = await t.issuer.sign({}, { nowSec: nowSec - 310, ttlSec: 300 }); // 10 s late, skew 30 s
    assert.equal((await post(bearer(justExpired))).status, 200);
    const tooLate = await t.issuer.sign({}, { nowSec: nowSec - 340, ttlSec: 300 }); // 40 s late
    await expectRefused(post(bearer(tooLate)), 401, 'authentication_error');
  });

  it('refuses a token that is not valid yet (future nbf) with 401', async () => {
    await expectRefused(post(bearer(await t.issuer.sign({ nbf: nowSec + 600 }, { nowSec }))), 401, 'authentication_error', /"nbf"/);
  });

  it('refuses an HS256 token "signed" with the public key (algorithm confusion) with 401', async () => {
    const jwk = await exportJWK(t.issuer.publicKey);
    for (const secret of [await exportSPKI(t.issuer.publicKey), JSON.stringify(jwk)]) {
      const header = base64url.encode(JSON.stringify({ alg: 'HS256', kid: t.issuer.kid, typ: 'JWT' }));
      const payload = base64url.encode(JSON.stringify({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'alice', exp: nowSec + 300, iat: nowSec }));
      const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      await expectRefused(post(bearer(`${header}.${payload}.${sig}`)), 401, 'authentication_error', /algorithm/);
    }
  });

  it('refuses a token whose kid is unknown with 401', async () => {
    const other = await generateKeyPair('ES256');
    const token = await t.issuer.sign({}, { nowSec, kid: 'unknown-kid', key: other.privateKey });
    await expectRefused(post(bearer(token)), 401, 'authentication_error', /unknown kid/);
  });

  it('refuses a token without exp with 401', async () => {
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: t.issuer.kid })
      .setIssuedAt(nowSec)
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .sign(t.issuer.privateKey);
    await expectRefused(post(bearer(token)), 401, 'authentication_error', /"exp"/);
  });

  it('refuses a revoked jti, a missing, a malformed and an unknown credential with 401', async () => {
    await expectRefused(post(bearer(await t.issuer.sign({ jti: 'jti-revoked' }, { nowSec }))), 401, 'authentication_error', /revoked/);
    await expectRefused(post({}), 401, 'authentication_error', /Missing credential/);
    await expectRefused(post({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), 401, 'authentication_error', /Malformed/);
    await expectRefused(post({ 'x-api-key': 'not-a-known-key' }), 401, 'authentication_error', /Invalid API key/);
  });

  it('accepts a service API key, stored only as its hash, as its owner', async () => {
    const r = await post({ 'x-api-key': SERVICE_KEY });
    assert.equal(r.status, 200);
    await t.gateway.recorder.flush();
    const rows = await t.gateway.store.report('team', new Date(0));
    assert.ok(rows.some((row) => row.key === 'platform'));
  });

  it('refuses an oversized body with 413, by declared length and by streamed length', async () => {
    const big = JSON.stringify(messagesBody({ padding: 'x'.repeat(8192) }));
    await expectRefused(post(bearer(await t.issuer.sign({}, { nowSec })), big), 413, 'request_too_large');
    const chunked = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    await expectRefused(
      fetch(`${t.url}/v1/messages`, { method: 'POST', headers: bearer(await t.issuer.sign({}, { nowSec })), body: chunked, duplex: 'half' } as RequestInit),
      413,
      'request_too_large',
    );
  });

  it('refuses malformed JSON with 400 invalid_request_error', async () => {
    await expectRefused(post(bearer(await t.issuer.sign({}, { nowSec })), '{"model": "claude-sonnet-4-5", '), 400, 'invalid_request_error', /JSON/);
    await expectRefused(post(bearer(await t.issuer.sign({}, { nowSec })), '[1,2]'), 400, 'invalid_request_error');
    await expectRefused(post(bearer(await t.issuer.sign({}, { nowSec })), '{"max_tokens": 5}'), 400, 'invalid_request_error', /model/);
  });

  it('refuses a model the team may not use with 403 permission_error naming it', async () => {
    const token = await t.issuer.sign({}, { nowSec });
    await expectRefused(post(bearer(token), JSON.stringify(messagesBody({ model: 'claude-opus-4-1' }))), 403, 'permission_error', /claude-opus-4-1.*not allowed.*eng/);
  });

  it('header injection: two different credentials are refused, not guessed between', async () => {
    const token = await t.issuer.sign({}, { nowSec });
    await expectRefused(post({ ...bearer(token), 'x-api-key': SERVICE_KEY }), 401, 'authentication_error', /Conflicting/);
  });

  it('header injection: a CR inside a header value is refused before the gateway acts on it', async () => {
    const token = await t.issuer.sign({}, { nowSec });
    const body = JSON.stringify(messagesBody());
    const before = t.mock.count;
    const { port } = new URL(t.url);
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nanthropic-beta: a\rx-api-key: injected\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
    });
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.equal(t.mock.count, before);
  });

  it('header injection: caller credentials and proxy headers never reach the upstream; the gateway key does', async () => {
    const token = await t.issuer.sign({}, { nowSec });
    const r = await post({ ...bearer(token), 'x-api-key': token, 'proxy-authorization': 'Bearer other', cookie: 'a=b', 'x-forwarded-for': '6.6.6.6' });
    assert.equal(r.status, 200);
    const seen = t.mock.requests.at(-1)!.headers;
    assert.notEqual(seen['x-api-key'], token);
    assert.match(String(seen['x-api-key']), /^[0-9a-f]{32}$/);
    for (const h of ['authorization', 'proxy-authorization', 'cookie', 'x-forwarded-for']) assert.equal(seen[h], undefined, h);
  });

  it('never writes a token into the logs', async () => {
    const token = await t.issuer.sign({}, { nowSec });
    await post(bearer(token));
    await post(bearer(`${token}x`));
    assert.ok(t.logs.length > 0);
    for (const line of t.logs) assert.ok(!line.includes(token.split('.')[2]!), 'a token signature appeared in a log line');
    assert.ok(!t.logs.join('').includes(SERVICE_KEY));
  });
});
