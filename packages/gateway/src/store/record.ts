// One request as usage and audit see it. No token, no prompt or answer unless content is enabled.
import type { Refusal } from '../auth/refusal.js';

export interface RequestRecord {
  requestId: string;
  /** ISO 8601, UTC. */
  time: string;
  user: string | null;
  team: string | null;
  /** `jti:<jti>` or `key:<id>`: which credential, never the credential. */
  credentialId: string | null;
  model: string | null;
  format: string;
  upstream: string | null;
  /** `upstream/model` of the deployment that served the answer (after any fallback). */
  deployment?: string | null;
  status: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  latencyMs: number;
  clientAddress: string | null;
  userAgent: string | null;
  /** Only for a request refused at authentication: the credential's kind and claims (unverified) and the reason. */
  refusal?: Refusal;
  /** Only with audit.includeContent: the request body as received. */
  content?: string;
}
