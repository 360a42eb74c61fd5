// Gateway errors and the Anthropic error shape every refusal is answered with.
//
// Claude Code re-runs its apiKeyHelper only on 401, so every credential problem (unknown,
// malformed, expired, revoked) must be an AuthenticationError, never a 403.

import type { AnthropicErrorType } from '@claude-key/api-formats';

// One list of Anthropic error types for the whole gateway: the wire-format package owns it.
export type { AnthropicErrorType };

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: AnthropicErrorType,
    message: string,
    /** Extra response headers, e.g. retry-after. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export const authenticationError = (message: string) => new GatewayError(401, 'authentication_error', message);
export const permissionError = (message: string) => new GatewayError(403, 'permission_error', message);
export const invalidRequest = (message: string) => new GatewayError(400, 'invalid_request_error', message);
export const notFound = (message: string) => new GatewayError(404, 'not_found_error', message);
export const tooLarge = (limit: number) =>
  new GatewayError(413, 'request_too_large', `Request body exceeds the gateway limit of ${limit} bytes.`);
/** A dependency the gateway needs to decide (a shared ledger or limiter) is down and the policy fails closed. */
export const dependencyUnavailable = (message: string) => new GatewayError(503, 'api_error', `${message} Retry shortly.`, { 'retry-after': '1' });
export const upstreamUnavailable = (message: string) => new GatewayError(502, 'api_error', message);

export function rateLimited(message: string, retryAfterMs: number): GatewayError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GatewayError(429, 'rate_limit_error', `${message}; retry in ${seconds}s.`, { 'retry-after': String(seconds) });
}

/** The body Anthropic's API sends for an error, byte-compatible with what its SDKs parse. */
export function anthropicErrorBody(type: AnthropicErrorType, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}
