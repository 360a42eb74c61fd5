// Nothing for free before authentication: refusals on the headers alone, in the client's shape, with bounded waits.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { base64url } from 'jose';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';

/** Writes raw bytes on a fresh connection; resolves with everything read until the server closes or `until` matches. */
function raw(url: string, bytes: string, opts: { until?: RegExp; timeoutMs?: number } = {}): Promise<{ text: string; ms: number }> {
  const { port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${opts.timeoutMs ?? 5000} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, opts.timeoutMs ?? 5000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, ms: performance.now() - started });
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (opts.until?.test(text)) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('nothing for free before authentication', () => {
  let t: TestGateway;

  before(async () => {
    t = await startTestGateway({ listen: { host: '127.0.0.1', port: 0, headersTimeoutMs: 1_000 } });
  });
  after(() => t.close());

  it('answers 401 to a caller without a credential before it has sent a byte of its 30 MiB body', async () => {
    const before = t.mock.count;
    // Headers only; the declared body never comes. The old gateway read the body first and so never answered.
    const { text, ms } = await raw(
      t.url,
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${30 * 1024 * 1024}\r\n\r\n`,
      { until: /\r\n\r\n\{.*\}\}$/s, timeoutMs: 3_000 },
    );
    assert.equal(statusOf(text), 401);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.equal(bodyOf(text).error.type, 'authentication_error');
    assert.ok(ms < 1_000, `answered in ${ms} ms`);
    assert.equal(t.mock.count, before);
  });

  it('after an early 401, keeps reading and dropping the body for a while (lingering close), then cuts the connection', async () => {
    // A reset while the client is still sending can destroy the 401 before the client reads it
    // (then Claude Code sees a network error and never re-runs its helper).
    const { port } = new URL(t.url);
    const outcome = await new Promise<{ status: number; sentAfter401: number; cutAfterMs: number }>((resolve, reject) => {
      // Half-open allowed: like a client busy uploading, it keeps sending after the server's FIN.
      const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true }, () =>
        socket.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`),
      );
      let text = '';
      let status = 0;
      let sentAfter401 = 0;
      let answeredAt = 0;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const done = () => {
        socket.destroy();
        resolve({ status, sentAfter401, cutAfterMs: performance.now() - answeredAt });
      };
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (status || !/^HTTP\/1\.1 (\d{3})/.test(text)) return;
        status = Number(text.slice(9, 12));
        answeredAt = performance.now();
        const pump = setInterval(() => {
          if (socket.destroyed) return clearInterval(pump);
          if (performance.now() - answeredAt > 8_000) return clearInterval(pump), reject(new Error('never cut'));
          socket.write(chunk, (err) => (err ? (clearInterval(pump), done()) : (sentAfter401 += chunk.length)));
        }, 20);
      });
      socket.on('error', done);
    });
    assert.equal(outcome.status, 401);
    assert.ok(outcome.sentAfter401 > 1024 * 1024, `only ${outcome.sentAfter401} bytes were taken after the 401`);
    assert.ok(outcome.cutAfterMs > 1_000 && outcome.cutAfterMs < 6_000, `cut ${outcome.cutAfterMs} ms after the answer`);
  });

  it('refuses a bad token before the body in the Bedrock shape too', async () => {
    const { text } = await raw(
      t.url,
      `POST /bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Length: 1000000\r\n\r\n`,
      { until: /\r\n\r\n\{.*\}$/s, timeoutMs: 3_000 },
    );
    assert.equal(statusOf(text), 401);
    assert.match(text, /x-amzn-errortype: UnrecognizedClientException/i);
    assert.ok(bodyOf(text).message);
  });

  it('accepts a 40 KiB request head (an OIDC token with a big groups claim)', async () => {
    const groups = Array.from({ length: 900 }, (_, i) => `group-with-a-longish-name-${i}`);
    const token = await t.issuer.sign({ groups });
    assert.ok(token.length > 30_000, `token of ${token.length} bytes`);
    const r = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(messagesBody()) });
    assert.equal(r.status, 200);
  });

  it("answers Node's own 431 for a head over the limit in the client's error shape", async () => {
    const pad = 'a'.repeat(70 * 1024);
    const anthropic = await raw(t.url, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-pad: ${pad}\r\n\r\n`, { timeoutMs: 3_000 });
    assert.equal(statusOf(anthropic.text), 431);
    assert.equal(bodyOf(anthropic.text).error.type, 'invalid_request_error');
    const bedrock = await raw(t.url, `POST /bedrock/model/m/invoke HTTP/1.1\r\nHost: x\r\nx-pad: ${pad}\r\n\r\n`, { timeoutMs: 3_000 });
    assert.match(bedrock.text, /x-amzn-errortype: ValidationException/i);
    assert.match(bodyOf(bedrock.text).message, /headers exceed/);
  });

  it('answers a malformed request line with 400 in the Anthropic shape', async () => {
    const { text } = await raw(t.url, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n`, { timeoutMs: 3_000 });
    assert.equal(statusOf(text), 400);
    assert.equal(bodyOf(text).type, 'error');
  });

  it('answers request targets that are no URL (`//`, `///`) with 404 in the Anthropic shape, and keeps serving', async () => {
    // A WHATWG URL parse of `//` throws; it once went uncaught and one request line stopped the gateway.
    for (const target of ['//', '///', '//?x=1']) {
      for (const method of ['GET', 'POST']) {
        const { text } = await raw(t.url, `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, { timeoutMs: 3_000 });
        assert.equal(statusOf(text), 404, `${method} ${target}: ${text.slice(0, 200)}`);
        assert.equal(bodyOf(text).error.type, 'not_found_error');
      }
    }
    const health = await fetch(`${t.url}/healthz`);
    assert.equal(health.status, 200, 'still serving');
  });

  it('answers 300 random request targets, each with a status, and never stops serving', async () => {
    // Prefixes of every route family, then characters that exercise URL parsing: dots, escapes, slashes, query.
    const prefixes = ['/', '//', '/v1/messages', '/anthropic', '/bedrock/model/', '/vertex_ai/v1/projects/', '/admin/', '/console', '/enroll', '/.well-known/'];
    const alphabet = ['/', '/', '.', '..', '%2e', '%2F', '%', '?', '#', '\\', ':', '@', 'a', '0', '~', '=', '&'];
    let seed = 7;
    const random = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    for (let i = 0; i < 300; i++) {
      let target = prefixes[random(prefixes.length)]!;
      for (let n = random(10); n > 0; n--) target += alphabet[random(alphabet.length)];
      const method = ['GET', 'POST', 'HEAD', 'DELETE'][random(4)]!;
      const { text } = await raw(t.url, `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, { timeoutMs: 3_000 });
      const status = statusOf(text);
      assert.ok(status >= 200 && status < 500, `${method} ${target}: ${text.slice(0, 120)}`);
    }
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200, 'still serving');
  });

  it('cuts a slowloris client that never finishes its headers, with 408 in the client shape', async () => {
    const { text, ms } = await raw(t.url, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-slow: 1`, { timeoutMs: 5_000 });
    assert.equal(statusOf(text), 408);
    assert.equal(bodyOf(text).error.type, 'timeout_error');
    assert.ok(ms < 3_500, `cut after ${ms} ms`);
  });

  it('refuses two Authorization headers, even carrying the same token, and nothing reaches the upstream', async () => {
    const token = await t.issuer.sign();
    const body = JSON.stringify(messagesBody());
    const before = t.mock.count;
    const { text } = await raw(
      t.url,
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      { until: /\r\n\r\n\{.*\}\}$/s },
    );
    assert.equal(statusOf(text), 401);
    assert.match(bodyOf(text).error.message, /Repeated authorization/);
    assert.equal(t.mock.count, before);
  });
});

describe('token shape and lifetime', () => {
  let t: TestGateway;
  const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
  const nowSec = NOW / 1000;

  before(async () => {
    t = await startTestGateway({}, { now: () => NOW });
  });
  after(() => t.close());

  const post = (token: string) =>
    fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(messagesBody()) });
  async function refused(token: string, message: RegExp) {
    const before = t.mock.count;
    const r = await post(token);
    const body = (await r.json()) as { error: { type: string; message: string } };
    assert.equal(r.status, 401, body.error.message);
    assert.match(body.error.message, message);
    assert.equal(t.mock.count, before);
  }

  it('refuses a token living longer than the issuer maximum (24 h by default)', async () => {
    assert.equal((await post(await t.issuer.sign({}, { nowSec, ttlSec: 86_400 }))).status, 200);
    await refused(await t.issuer.sign({}, { nowSec, ttlSec: 86_400 + 120 }), /lifetime/);
    await refused(await t.issuer.sign({}, { nowSec, ttlSec: 365 * 86_400 }), /lifetime/);
  });

  it('refuses a token without iat or issued in the future beyond the clock skew', async () => {
    await refused(await t.issuer.sign({ iat: undefined }, { nowSec }), /"iat"/);
    assert.equal((await post(await t.issuer.sign({}, { nowSec: nowSec + 20 }))).status, 200, 'within the 30 s skew');
    await refused(await t.issuer.sign({}, { nowSec: nowSec + 600 }), /"iat"/);
  });

  it('refuses segments that are not canonical base64url: padding, altered trailing bits, another alphabet', async () => {
    const token = await t.issuer.sign({}, { nowSec });
    assert.equal((await post(token)).status, 200);
    const [h, p, s] = token.split('.') as [string, string, string];
    // An ES256 signature is 64 bytes: 86 characters, whose last one carries 4 unused bits.
    const last = s.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!; // same 2 meaningful bits, other unused bits
    assert.deepEqual(base64url.decode(`${s.slice(0, -1)}${twin}`), base64url.decode(s), 'the twin decodes to the same signature');
    await refused(`${h}.${p}.${s.slice(0, -1)}${twin}`, /canonical base64url/);
    await refused(`${h}.${p}.${s}==`, /canonical base64url/);
    await refused(`${h}.${p}.${s.slice(0, -1)}+`, /canonical base64url/);
  });
});

describe('metrics on a listener of their own', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ metrics: { host: '127.0.0.1', port: 0 } });
  });
  after(() => t.close());

  it('serves /metrics on the metrics listener only', async () => {
    assert.ok(t.gateway.metricsUrl);
    const r = await fetch(`${t.gateway.metricsUrl}/metrics`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /claude_key_gateway_requests_total|process_cpu/);
    assert.equal((await fetch(`${t.url}/metrics`)).status, 404);
  });
});
