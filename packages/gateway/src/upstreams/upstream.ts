// What every upstream offers the forwarding stage: the deployment it serves, and its own credentials.
//
// api-formats builds the request for the upstream's wire format (Anthropic, Bedrock, Vertex);
// the upstream adds credentials (x-api-key, SigV4, a Google bearer) and owns the connection pools.
import type { IncomingHttpHeaders } from 'node:http';
import type { Deployment, UpstreamKind, UpstreamRequest } from '@claude-key/api-formats';
import { Pool } from 'undici';

export interface Upstream {
  readonly name: string;
  readonly kind: UpstreamKind;
  /** Per-upstream limit for the answer headers and for each gap between body chunks. */
  readonly timeoutMs: number;
  /** True when the caller's own credential goes upstream (Vertex passthrough): its refusals are the caller's. */
  readonly callerCredentials: boolean;
  /** Where this upstream serves `model` (its own id for it). */
  deployment(model: string): Deployment;
  /** Adds this upstream's credentials to a request built by api-formats. */
  authorize(request: UpstreamRequest, callerHeaders: IncomingHttpHeaders): Promise<UpstreamRequest>;
  /** The keep-alive pool for an origin this upstream sends to. */
  dispatcher(origin: string): Pool;
  /** Called when the upstream refused our own credential, so a rotated key is re-read. */
  credentialRejected(): void;
  close(): Promise<void>;
}

/** One pool per origin, created on first use. */
export function pools(): { get(origin: string): Pool; close(): Promise<void> } {
  const byOrigin = new Map<string, Pool>();
  return {
    get(origin) {
      let p = byOrigin.get(origin);
      // Generous keep-alive so a busy gateway never pays a TCP handshake per request.
      if (!p) byOrigin.set(origin, (p = new Pool(origin, { connections: 256, keepAliveTimeout: 60_000, pipelining: 1 })));
      return p;
    },
    async close() {
      await Promise.all([...byOrigin.values()].map((p) => p.close()));
    },
  };
}
