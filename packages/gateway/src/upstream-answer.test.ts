// The upstream answer handler on its own, against a real undici Pool and a real HTTP server: what is
// read whole and what is streamed, backpressure, and every way the client's leaving reaches the
// upstream connection.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { ClientGone, UpstreamAnswer } from './upstream-answer.js';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

describe('UpstreamAnswer', () => {
  let server: Server;
  let pool: Pool;
  const routes = new Map<string, Route>();
  const closedEarly = new Map<string, Promise<boolean>>();
  /**
   * The request's server side closed before its answer ended: the upstream saw the abort. Requests
   * here run with 60 s timeouts, so nothing but the abort closes them within the 2 s waited.
   */
  const cut = (path: string) => Promise.race([closedEarly.get(path)!, new Promise<string>((r) => setTimeout(r, 2000, 'still open after 2 s'))]);

  before(async () => {
    server = createServer((req, res) => {
      closedEarly.set(req.url!, new Promise((resolve) => res.once('close', () => resolve(!res.writableFinished))));
      routes.get(req.url!)!(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    await pool.close();
    server.closeAllConnections();
    server.close();
  });

  /** Sends one request; resolves with the handed-over answer, or rejects with the failure. */
  function send(path: string, route: Route, opts: { streamed: boolean; gone?: ClientGone }) {
    routes.set(path, route);
    const gone = opts.gone ?? new ClientGone();
    const answer = new Promise<UpstreamAnswer>((resolve, reject) => {
      const handler = new UpstreamAnswer(gone, opts.streamed, (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
      pool.dispatch({ path, method: 'POST', body: '{}', headersTimeout: 60_000, bodyTimeout: 60_000 }, handler);
    });
    return { answer, gone };
  }

  it('reads a JSON answer whole, with its status and headers', async () => {
    const { answer } = send('/json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_1' });
      res.write('{"a":');
      setTimeout(() => res.end('1}'), 20);
    }, { streamed: false });
    const a = await answer;
    assert.equal(a.statusCode, 200);
    assert.equal(a.headers['request-id'], 'req_1');
    assert.equal(a.raw.toString(), '{"a":1}');
    assert.equal(a.body, undefined);
  });

  it('hands a streamed 2xx answer over at its headers, and its body carries every chunk to the end', async () => {
    let finish!: () => void;
    const { answer } = send('/stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: a\n\n');
      finish = () => res.end('event: b\n\n');
    }, { streamed: true });
    const a = await answer; // before the upstream has ended
    assert.equal(a.statusCode, 200);
    assert.ok(a.body);
    finish();
    const chunks: Buffer[] = [];
    for await (const chunk of a.body) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'event: a\n\nevent: b\n\n');
  });

  it('reads a streamed request\'s error status whole, so that it can be parsed and retried', async () => {
    const { answer } = send('/stream-529', (_req, res) => {
      res.writeHead(529, { 'content-type': 'application/json' });
      res.end('{"type":"error","error":{"type":"overloaded_error","message":"busy"}}');
    }, { streamed: true });
    const a = await answer;
    assert.equal(a.statusCode, 529);
    assert.equal(a.body, undefined);
    assert.match(a.raw.toString(), /overloaded_error/);
  });

  it('pauses the upstream connection while nobody reads the body, and resumes it when read', async () => {
    const total = 32 * 1024 * 1024;
    let written = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const { answer } = send('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const block = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < total) {
          written += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        res.end(done);
      };
      pump();
    }, { streamed: true });
    const a = await answer;
    await new Promise((r) => setTimeout(r, 300));
    // Socket buffers on both sides hold a few MiB at most; without backpressure the whole answer would be sent.
    assert.ok(written < total / 2, `the upstream stalled while nobody read (${written} of ${total} bytes written)`);
    let read = 0;
    for await (const chunk of a.body!) read += (chunk as Buffer).length;
    await finished;
    assert.equal(read, total);
  });

  it('aborts the upstream request when the client goes away while a JSON answer is awaited', async () => {
    const { answer, gone } = send('/json-slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
    }, { streamed: false });
    await new Promise((r) => setTimeout(r, 50));
    gone.abort();
    await assert.rejects(answer, /client went away/);
    assert.equal(await cut('/json-slow'), true);
  });

  it('aborts the upstream request when the client goes away mid-stream, and the body ends without an error', async () => {
    const { answer, gone } = send('/stream-left', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: a\n\n');
    }, { streamed: true });
    const a = await answer;
    const errors: Error[] = [];
    a.body!.on('error', (err) => errors.push(err));
    gone.abort();
    assert.equal(await cut('/stream-left'), true);
    await new Promise((r) => setImmediate(r));
    assert.equal(a.body!.destroyed, true);
    assert.deepEqual(errors, [], 'the client leaving is no upstream failure');
  });

  it('aborts the upstream request when the body is destroyed before its end (the relay let go)', async () => {
    const { answer } = send('/stream-destroyed', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: a\n\n');
    }, { streamed: true });
    const a = await answer;
    a.body!.destroy();
    assert.equal(await cut('/stream-destroyed'), true);
  });

  it('passes an upstream failure mid-stream to the body as an error', async () => {
    const { answer } = send('/stream-dies', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: a\n\n');
      setTimeout(() => res.socket!.destroy(), 20);
    }, { streamed: true });
    const a = await answer;
    a.body!.resume();
    const [err] = (await once(a.body!, 'error')) as [Error];
    assert.ok(err instanceof Error);
  });

  it('never sends a request whose client has already gone', async () => {
    const gone = new ClientGone();
    gone.abort();
    let reached = false;
    const { answer } = send('/never', () => (reached = true), { streamed: false, gone });
    await assert.rejects(answer, /client went away/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reached, false);
  });
});
