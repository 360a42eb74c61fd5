// The one object a request carries through the pipeline stages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiFormat, CanonicalRequest, InboundRoute } from '@claude-key/api-formats';
import type { Principal } from './auth/principal.js';
import type { Refusal } from './auth/refusal.js';
import type { BudgetHold } from './budgets.js';
import type { TokenHold } from './limits.js';
import type { RouteResult } from './routing.js';
import type { Upstream } from './upstreams/upstream.js';
import type { Usage } from './usage/usage.js';

export type Operation = 'messages' | 'count_tokens';

export interface RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Wall-clock time the request arrived (ms since epoch, from the injected clock). */
  readonly receivedAt: number;
  /** performance.now() at arrival, for latency. */
  readonly startedAt: number;
  /** The wire format the client spoke, and so the shape of every answer and error it gets. */
  readonly format: ApiFormat;
  readonly operation: Operation;
  readonly route: Extract<InboundRoute, { kind: 'model' }>;
  /** The request body exactly as received. */
  body?: Buffer;
  /** The request in canonical (Anthropic Messages) form; its body is edited only where the formats differ. */
  canonical?: CanonicalRequest;
  /** The model's group name (or canonical key): what policies, prices and usage see. */
  model?: string;
  stream?: boolean;
  principal?: Principal;
  /** Set when authentication refused the request: what it presented, unverified. */
  refusal?: Refusal;
  routing?: RouteResult;
  /** The upstream and deployment (`upstream/model`) that served the answer. */
  upstream?: Upstream;
  deployment?: string;
  /** The deployment tried first, when another one answered. */
  fellBackFrom?: string;
  /** Status answered to the client, once known. */
  status?: number;
  errorType?: string;
  usage?: Usage;
  /** What this request reserved on budgets and token limits before forwarding; settled when it is recorded. */
  budgetHold?: BudgetHold;
  tokenHold?: TokenHold;
  /** Set once the upstream answered, for latency splits. */
  upstreamStatus?: number;
}
