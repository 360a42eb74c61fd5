// An upstream at its maxInFlight answers the next request with the client's overload error at once, and /metrics shows it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';
import { TEST_ISSUER } from './test-support/keys.js';

describe('upstream in-flight limit', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ upstreams: { mock: { type: 'mock', maxInFlight: 2 } }, retry: { attempts: 1, backoffMs: 0 }, auth: { admins: [{ source: TEST_ISSUER, subject: 'ops' }] } });
  });
  after(() => t.close());

  const ask = async (extra: Record<string, string> = {}) =>
    fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': await t.issuer.sign({ sub: 'streamer' }), 'content-type': 'application/json', ...extra },
      body: JSON.stringify(messagesBody({ stream: true })),
    });

  it('refuses the request past the cap with 529 overloaded_error instead of waiting, then serves again', async () => {
    const slow = await Promise.all([ask({ 'x-mock-delay-ms': '100' }), ask({ 'x-mock-delay-ms': '100' })]);
    const readers = slow.map((r) => r.body!.getReader());
    await Promise.all(readers.map((r) => r.read())); // both streams hold their slot

    const third = await ask();
    assert.equal(third.status, 529);
    assert.deepEqual(((await third.json()) as { error: { type: string } }).error.type, 'overloaded_error');
    const admin = await t.issuer.sign({ sub: 'ops' });
    const metrics = await (await fetch(`${t.url}/metrics`, { headers: { 'x-api-key': admin } })).text();
    assert.match(metrics, /claude_key_gateway_upstream_in_flight\{upstream="mock"\} 2/);
    assert.match(metrics, /claude_key_gateway_upstream_max_in_flight\{upstream="mock"\} 2/);
    assert.match(metrics, /claude_key_gateway_upstream_overloaded_refusals\{upstream="mock"\} 1/);

    for (const r of readers) await r.cancel(); // the clients go away: their slots are released
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const r = await ask();
      status = r.status;
      await r.arrayBuffer();
      if (status !== 200) await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(status, 200);
  });
});
