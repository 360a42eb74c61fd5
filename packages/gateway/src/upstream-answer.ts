// Reads an upstream's answer with undici's dispatch() and a handler of its own, and ties it to the
// client's connection: a client that goes away aborts the upstream request.
//
// Why not undici's request(): per answer it builds a body stream, a promise chain to read it and an
// abort listener, a closure registered on the signal. That listener, like any function made per
// request and registered where it is called later, kept each answer's objects (its headers, the
// request, the handler) alive through the young-generation collections: at 500 req/s each scavenge
// kept about 0.7 MB and promoted 0.6 MB, and paused the event loop 4-5 ms on average (with
// references in fields instead: 0.06 MB kept, 0.9 ms; docs/benchmarks.md, "Per-request listeners
// on the abort path"). So nothing here is a closure made per request: the client's side holds the
// answer being read in a field, the body stream holds the undici controller in one.
import type { IncomingHttpHeaders } from 'node:http';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

const EMPTY = Buffer.alloc(0);
const clientWentAway = () => new Error('the client went away');
const ignore = () => undefined;

/**
 * Set when the client's connection closes before its answer has ended: stops retries (the `abort`
 * event, see `pause` in forward.ts) and aborts the upstream answer being read.
 */
export class ClientGone extends EventEmitter {
  aborted = false;
  /** The upstream answer being read for this client, if any. */
  reading: UpstreamAnswer | undefined = undefined;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reading?.abort();
    this.emit('abort');
  }
}

/**
 * One upstream answer. A streamed answer with a 2xx status is handed over at its headers, its body
 * a Readable that pauses the upstream connection while the client is not reading; anything else (a
 * JSON answer, or an error status of either kind) is read whole into `raw` first.
 */
export class UpstreamAnswer implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  /** The whole answer, when it was not streamed. */
  raw: Buffer = EMPTY;
  /** The streamed answer's body, when it was. */
  body: UpstreamBody | undefined = undefined;
  private readonly chunks: Buffer[] = [];
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private settled = false;
  /** The client went away: the upstream was aborted for that, which is no failure to report. */
  private abandoned = false;

  constructor(
    private readonly gone: ClientGone,
    private readonly streamed: boolean,
    private readonly settle: (outcome: UpstreamAnswer | Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.gone.aborted) return controller.abort(clientWentAway());
    this.controller = controller;
    this.gone.reading = this;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    if (this.streamed && statusCode >= 200 && statusCode < 300) {
      this.body = new UpstreamBody(controller);
      this.hand(this);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.body === undefined) this.chunks.push(chunk);
    else if (!this.body.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.done();
    if (this.body !== undefined) {
      this.body.finished = true;
      this.body.push(null);
      return;
    }
    this.raw = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.hand(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.done();
    if (this.body === undefined) return this.hand(err);
    this.body.finished = true;
    this.body.destroy(this.abandoned ? undefined : err);
  }

  /** The client went away: stop the upstream's work and free its connection. */
  abort(): void {
    this.abandoned = true;
    this.controller?.abort(clientWentAway());
  }

  private hand(outcome: UpstreamAnswer | Error): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(outcome);
  }

  private done(): void {
    if (this.gone.reading === this) this.gone.reading = undefined;
    this.controller = undefined;
  }
}

/**
 * A streamed answer's body. Reading resumes the upstream connection the handler paused; destroying
 * the body before its end (the client left, or the relay failed) aborts the upstream request.
 */
export class UpstreamBody extends Readable {
  /** The upstream answer has ended or failed: nothing is left to abort. */
  finished = false;

  constructor(private readonly controller: Dispatcher.DispatchController) {
    super({ highWaterMark: 64 * 1024 }); // undici's own body streams use the same
    // An upstream failure after the relay let go of the body (its client left) has nobody to tell;
    // an 'error' event without a listener would stop the gateway.
    this.on('error', ignore);
  }

  override _read(): void {
    this.controller.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.finished) this.controller.abort(err ?? clientWentAway());
    callback(err);
  }
}
