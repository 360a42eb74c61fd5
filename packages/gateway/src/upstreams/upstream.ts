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
  /** Answers in flight to this upstream, and its cap (set by createUpstreams from `maxInFlight`). */
  readonly inFlight?: InFlightLimit;
  close(): Promise<void>;
}

/**
 * A cap on answers in flight to one upstream. Past it a request is refused at once with the
 * client's overload error (and may fall back to another deployment) instead of waiting, possibly
 * for minutes, behind long streams for a connection.
 */
export class InFlightLimit {
  current = 0;
  refused = 0;
  constructor(readonly max: number) {}

  tryAcquire(): boolean {
    if (this.current >= this.max) {
      this.refused++;
      return false;
    }
    this.current++;
    return true;
  }

  release(): void {
    this.current--;
  }
}

/** One pool per origin, created on first use. */
export function pools(): { get(origin: string): Pool; close(): Promise<void> } {
  const byOrigin = new Map<string, Pool>();
  return {
    get(origin) {
      let p = byOrigin.get(origin);
      // Generous keep-alive so a busy gateway never pays a TCP handshake per request. No connection
      // cap here: InFlightLimit refuses past the configured one instead of queueing without end.
      if (!p) byOrigin.set(origin, (p = new Pool(origin, { connections: null, keepAliveTimeout: 60_000, pipelining: 1 })));
      return p;
    },
    async close() {
      await Promise.all([...byOrigin.values()].map((p) => p.close()));
    },
  };
}
