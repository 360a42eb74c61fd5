// A streamed answer that fails on either side releases the other: the upstream connection, the
// upstream's in-flight slot, and the client's response; and the request still gets its record.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { messagesBody, startTestGateway, type TestGateway } from './test-support/gateway.js';

/** Waits (a bounded number of short pauses) until `done()` holds; the assertion after it says what was expected. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('streams release both sides', () => {
  let t: TestGateway;
  let dies: Server;
  let diesClosed = 0;
  let token: string;

  before(async () => {
    // Sends two events of an answer, then its process "dies": the connection is cut mid-stream.
    dies = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const message = { id: 'msg_dies', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } };
        res.write(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message })}\n\n`);
        res.write(`event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello there' } })}\n\n`);
        setImmediate(() => res.socket!.destroy());
      });
      req.socket.once('close', () => diesClosed++);
    });
    await new Promise<void>((resolve) => dies.listen(0, '127.0.0.1', resolve));
    t = await startTestGateway({
      upstreams: {
        mock: { type: 'mock', maxInFlight: 4 },
        dies: { type: 'mock', url: `http://127.0.0.1:${(dies.address() as AddressInfo).port}`, maxInFlight: 4 },
      },
      models: [
        { name: 'claude-sonnet-4-6', deployments: [{ upstream: 'mock', model: 'claude-sonnet-4-6' }] },
        { name: 'dies-mid-stream', deployments: [{ upstream: 'dies', model: 'claude-sonnet-4-6' }] },
      ],
      retry: { attempts: 1, backoffMs: 0 },
    });
    token = await t.issuer.sign({ sub: 'streamer', team: 'research' });
  });
  after(async () => {
    await t.close();
    dies.closeAllConnections();
    await new Promise<void>((resolve) => dies.close(() => resolve()));
  });

  const inFlight = (upstream: string) => t.gateway.upstreams.byName.get(upstream)!.inFlight!.current;
  const ask = (model: string, signal?: AbortSignal) =>
    fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'x-mock-delay-ms': '50' },
      body: JSON.stringify(messagesBody({ model, stream: true })),
      signal,
    });
  async function recordOf(requestId: string) {
    await t.gateway.recorder.flush();
    return (await t.gateway.store.query<Record<string, unknown>>(`SELECT * FROM usage_records WHERE request_id = $1`, [requestId]))[0];
  }

  it('a client that leaves mid-stream closes the upstream request and frees its in-flight slot', async () => {
    const abortedBefore = t.mock.aborted;
    const controller = new AbortController();
    const r = await ask('claude-sonnet-4-6', controller.signal);
    const reader = r.body!.getReader();
    let seen = '';
    while ((seen.match(/content_block_delta/g) ?? []).length < 2) seen += new TextDecoder().decode((await reader.read()).value);
    assert.equal(inFlight('mock'), 1, 'the stream holds its slot while it runs');
    controller.abort();

    await until(() => t.mock.aborted > abortedBefore && inFlight('mock') === 0);
    assert.equal(t.mock.aborted, abortedBefore + 1, 'the upstream saw its request closed before the answer was complete');
    assert.equal(inFlight('mock'), 0, 'the in-flight slot is given back');
    const row = await recordOf(r.headers.get('x-claude-key-request-id')!);
    assert.equal(row?.status, 499);
    assert.ok(Number(row?.output_tokens) >= 2, `output already passed on is counted (got ${row?.output_tokens})`);
  });

  it('an upstream that dies mid-stream ends the client\'s answer with an error event, and the request is recorded', async () => {
    const r = await ask('dies-mid-stream');
    assert.equal(r.status, 200);
    const text = await r.text(); // resolves only once the gateway ends the response
    assert.match(text, /^event: message_start/);
    assert.match(text, /Hello there/);
    assert.match(text, /event: error\ndata: .*"type":"error"/, 'the failure reaches the client in its own framing');
    await until(() => diesClosed > 0 && inFlight('dies') === 0);
    assert.equal(inFlight('dies'), 0, 'the in-flight slot is given back');
    const row = await recordOf(r.headers.get('x-claude-key-request-id')!);
    assert.ok(row, 'the request has its record');
    assert.equal(Number(row.input_tokens), 12);
    assert.ok(Number(row.output_tokens) >= 1, `output already passed on is counted (got ${row.output_tokens})`);
  });
});
