// What every upstream offers the forwarding stage: where to send, and its own credential headers.
//
// New upstream kinds (Bedrock with SigV4, Vertex with Google tokens) implement this interface;
// `prepare` may rewrite path, headers and body for their wire format.
import { Pool } from 'undici';

export interface OutboundRequest {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Upstream {
  readonly name: string;
  readonly kind: string;
  readonly origin: string;
  readonly dispatcher: Pool;
  /** Adds this upstream's credentials (and any format translation) to an outbound request. */
  prepare(request: OutboundRequest): Promise<OutboundRequest>;
  /** Called when the upstream refused our own credential, so a rotated key is re-read. */
  credentialRejected(): void;
  close(): Promise<void>;
}

export function pool(origin: string): Pool {
  // Generous keep-alive so a busy gateway never pays a TCP handshake per request.
  return new Pool(origin, { connections: 256, keepAliveTimeout: 60_000, pipelining: 1 });
}
