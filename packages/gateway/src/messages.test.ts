// The Messages API through the gateway: the official SDK, byte-for-byte forwarding, streaming, usage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { MOCK_REPLY } from './upstreams/mock.js';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';
import { TEST_ISSUER } from './test-support/keys.js';

describe('Messages API through the gateway', () => {
  let t: TestGateway;
  let token: string;

  before(async () => {
    t = await startTestGateway({ auth: { admins: [{ source: TEST_ISSUER, subject: 'root' }] } });
    token = await t.issuer.sign({ sub: 'bob', team: 'research' });
  });
  after(() => t.close());

  const lastUpstream = () => t.mock.requests.at(-1)!;

  async function usageOf(requestId: string) {
    await t.gateway.recorder.flush();
    const rows = await t.gateway.store.query<Record<string, unknown>>(`SELECT * FROM usage_records WHERE request_id = $1`, [requestId]);
    return rows[0]!;
  }

  it('answers @anthropic-ai/sdk messages.create (non-streaming)', async () => {
    const client = new Anthropic({ apiKey: token, baseURL: t.url, maxRetries: 0 });
    const msg = await client.messages.create(messagesBody() as never);
    assert.equal(msg.type, 'message');
    assert.deepEqual(msg.content, [{ type: 'text', text: MOCK_REPLY }]);
    assert.ok(msg.usage.input_tokens > 0);
  });

  it('streams @anthropic-ai/sdk messages.stream and records the usage from the streamed events', async () => {
    const client = new Anthropic({ apiKey: token, baseURL: t.url, maxRetries: 0 });
    const stream = client.messages.stream(messagesBody() as never);
    const events: string[] = [];
    stream.on('streamEvent', (e) => events.push(e.type));
    const final = await stream.finalMessage();
    const text = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    assert.equal(text, MOCK_REPLY);
    assert.deepEqual([events[0], events.at(-2), events.at(-1)], ['message_start', 'message_delta', 'message_stop']);
    const requestId = (await stream.withResponse()).response.headers.get('x-claude-key-request-id')!;
    const row = await usageOf(requestId);
    assert.equal(row.user_id, 'bob');
    assert.equal(row.team_id, 'research');
    assert.equal(Number(row.input_tokens), final.usage.input_tokens);
    assert.equal(Number(row.output_tokens), final.usage.output_tokens);
    assert.ok(Number(row.output_tokens) > 1, 'the output count must come from message_delta, not message_start');
    const expected = (final.usage.input_tokens * 3 + final.usage.output_tokens * 15) / 1e6; // sonnet 4.5 prices
    assert.ok(Math.abs(Number(row.cost_usd) - expected) < 1e-12);
  });

  it('shows the SDK a 401 as AuthenticationError with Anthropic\'s error shape', async () => {
    const client = new Anthropic({ apiKey: 'eyJ.bad.token', baseURL: t.url, maxRetries: 0 });
    await assert.rejects(client.messages.create(messagesBody() as never), (err: unknown) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal((err as InstanceType<typeof Anthropic.AuthenticationError>).status, 401);
      return true;
    });
  });

  it('forwards the body byte for byte, unknown fields included, and anthropic-* headers unchanged', async () => {
    // Odd spacing, key order, unicode and fields the gateway does not know must all survive.
    const body = Buffer.from(
      `{ "model":"claude-sonnet-4-5-20250929",  "max_tokens": 16,\n "context_management": {"edits":[{"type":"clear_tool_uses_20250919"}]},` +
        ` "messages":[{"role":"user","content":"h\\u00e9llo ✓ 日本"}], "metadata":{"user_id":"u-1"}, "thinking":{"type":"enabled","budget_tokens":1024} }`,
    );
    const beta = 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27';
    const r = await fetch(`${t.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-api-key': token, 'anthropic-version': '2023-06-01', 'anthropic-beta': beta, 'content-type': 'application/json', 'x-app': 'cli' },
      body,
    });
    assert.equal(r.status, 200);
    const seen = lastUpstream();
    assert.ok(seen.body.equals(body), 'body changed on the way');
    assert.equal(seen.url, '/v1/messages?beta=true');
    assert.equal(seen.headers['anthropic-version'], '2023-06-01');
    assert.equal(seen.headers['anthropic-beta'], beta);
    assert.equal(seen.headers['x-app'], 'cli');
    assert.equal(seen.headers['content-length'], String(body.length));
  });

  it('forwards an ~85 KB Claude Code sized body intact', async () => {
    const body = Buffer.from(JSON.stringify(messagesBody({ system: [{ type: 'text', text: 'tool docs '.repeat(8700), cache_control: { type: 'ephemeral' } }] })));
    assert.ok(body.length > 85_000);
    const r = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' }, body });
    assert.equal(r.status, 200);
    assert.ok(lastUpstream().body.equals(body));
    const answer = (await r.json()) as { usage: { cache_creation_input_tokens: number } };
    const row = await usageOf(r.headers.get('x-claude-key-request-id')!);
    assert.ok(answer.usage.cache_creation_input_tokens > 0);
    assert.equal(Number(row.cache_write_tokens), answer.usage.cache_creation_input_tokens);
  });

  it('passes streamed events through as they arrive, before the upstream has finished', async () => {
    const r = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'x-mock-delay-ms': '40' },
      body: JSON.stringify(messagesBody({ stream: true })),
    });
    assert.equal(r.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = r.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^event: message_start/);
    assert.equal(t.mock.activeStreams, 1, 'the first event must reach the client while the upstream is still streaming');
    while (!(await reader.read()).done);
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    const abortedBefore = t.mock.aborted;
    const controller = new AbortController();
    const r = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'x-mock-delay-ms': '50' },
      body: JSON.stringify(messagesBody({ stream: true })),
      signal: controller.signal,
    });
    const reader = r.body!.getReader();
    let seen = '';
    while ((seen.match(/content_block_delta/g) ?? []).length < 3) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    for (let i = 0; i < 100 && t.mock.aborted === abortedBefore; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(t.mock.aborted, abortedBefore + 1);
    const row = await usageOf(r.headers.get('x-claude-key-request-id')!);
    assert.equal(row.status, 499, 'an answer the client never received in full is recorded as 499');
    assert.ok(Number(row.input_tokens) > 0, 'the usage seen before the disconnect is kept');
    assert.ok(Number(row.output_tokens) >= 3, `output tokens of the deltas passed on are counted (got ${row.output_tokens})`);
  });

  it('aborts the upstream request when the client of a JSON answer disconnects before it', async () => {
    const abortedBefore = t.mock.aborted;
    const controller = new AbortController();
    const sent = fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'x-mock-delay-ms': '5000' },
      body: JSON.stringify(messagesBody()),
      signal: controller.signal,
    }).catch((err: Error) => err);
    await new Promise((res) => setTimeout(res, 300));
    controller.abort();
    assert.ok((await sent) instanceof Error);
    for (let i = 0; i < 100 && t.mock.aborted === abortedBefore; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(t.mock.aborted, abortedBefore + 1, 'the upstream saw its request cut well before its 5 s answer');
  });

  it('forwards count_tokens', async () => {
    const client = new Anthropic({ apiKey: token, baseURL: t.url, maxRetries: 0 });
    const counted = await client.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Say hello' }] });
    assert.ok(counted.input_tokens > 0);
    assert.equal(lastUpstream().url, '/v1/messages/count_tokens');
  });

  it('answers Claude Code\'s HEAD / probe and the ops endpoints', async () => {
    assert.equal((await fetch(t.url, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as Record<string, unknown>;
    assert.deepEqual({ status: ready.status, store: ready.store, pending: typeof ready.pendingRecords }, { status: 'ready', store: 'sqlite', pending: 'number' });
    assert.equal((await fetch(`${t.url}/metrics`)).status, 401, 'metrics name users and teams: not for anyone');
    assert.equal((await fetch(`${t.url}/metrics`, { headers: { 'x-api-key': token } })).status, 403);
    const root = await t.issuer.sign({ sub: 'root', team: 'ops' });
    const metrics = await (await fetch(`${t.url}/metrics`, { headers: { 'x-api-key': root } })).text();
    assert.match(metrics, /claude_key_gateway_requests_total\{format="anthropic",upstream="mock",status="200"\} \d+/);
    assert.match(metrics, /claude_key_gateway_tokens_total\{kind="output"\} [1-9]/);
  });

  it('serves /admin/usage only to an admin credential', async () => {
    const asBob = await fetch(`${t.url}/admin/usage?by=team&since=2000-01-01`, { headers: { 'x-api-key': token } });
    assert.equal(asBob.status, 403);
    assert.equal(((await asBob.json()) as { error: { type: string } }).error.type, 'permission_error');
    assert.equal((await fetch(`${t.url}/admin/usage`)).status, 401);
    const root = await t.issuer.sign({ sub: 'root', team: 'ops' });
    const report = (await (await fetch(`${t.url}/admin/usage?by=team&since=2000-01-01`, { headers: { 'x-api-key': root } })).json()) as { rows: { key: string; requests: number }[] };
    assert.ok(report.rows.find((row) => row.key === 'research')!.requests >= 3);
  });
});
