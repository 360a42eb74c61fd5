// The one object a request carries through the pipeline stages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './auth/principal.js';
import type { InboundFormat, Operation } from './formats/format.js';
import type { Upstream } from './upstreams/upstream.js';
import type { Usage } from './usage/usage.js';

export interface RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Wall-clock time the request arrived (ms since epoch, from the injected clock). */
  readonly receivedAt: number;
  /** performance.now() at arrival, for latency. */
  readonly startedAt: number;
  readonly format: InboundFormat;
  readonly operation: Operation;
  /** The request body exactly as received; forwarded byte for byte. */
  body?: Buffer;
  /** The parsed body, read for the model and stream flag only. */
  json?: Record<string, unknown>;
  model?: string;
  stream?: boolean;
  principal?: Principal;
  upstream?: Upstream;
  /** Status answered to the client, once known. */
  status?: number;
  errorType?: string;
  usage?: Usage;
  /** Set once the upstream answered, for latency splits. */
  upstreamStatus?: number;
}
