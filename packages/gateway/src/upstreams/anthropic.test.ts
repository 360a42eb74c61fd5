// The Anthropic upstream: the gateway's own key from a reference, and a refused key as 502 (never 401).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messagesBody, startTestGateway, type TestGateway } from '../test-support/gateway.js';
import { startMockUpstream, type MockUpstream } from './mock.js';

describe('anthropic upstream', () => {
  let api: MockUpstream;
  let good: TestGateway;
  let bad: TestGateway;

  before(async () => {
    // A stand-in for api.anthropic.com that, like it, requires x-api-key.
    api = await startMockUpstream({ apiKey: 'sk-ant-upstream-key' });
    const upstreams = { anthropic: { type: 'anthropic' as const, url: api.url, apiKey: 'env:UPSTREAM_KEY' } };
    const routes = [{ model: 'claude-*', upstream: 'anthropic' }];
    good = await startTestGateway({ upstreams, routes }, { env: { UPSTREAM_KEY: 'sk-ant-upstream-key' } });
    bad = await startTestGateway({ upstreams, routes }, { env: { UPSTREAM_KEY: 'sk-ant-revoked' } });
  });
  after(async () => {
    await Promise.all([good.close(), bad.close()]);
    await api.close();
  });

  const ask = async (t: TestGateway) =>
    fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': await t.issuer.sign(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(messagesBody()),
    });

  it('sends the key from env: as x-api-key and never the caller token', async () => {
    const r = await ask(good);
    assert.equal(r.status, 200);
    assert.equal(api.requests.at(-1)!.headers['x-api-key'], 'sk-ant-upstream-key');
  });

  it('answers 502 api_error when the upstream refuses the gateway key, so Claude Code does not re-run its helper', async () => {
    const r = await ask(bad);
    assert.equal(r.status, 502);
    const body = (await r.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'api_error');
    assert.match(body.error.message, /refused the gateway's own credential/);
    assert.ok(!body.error.message.includes('sk-ant'));
  });
});
