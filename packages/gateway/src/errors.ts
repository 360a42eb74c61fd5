// Gateway errors and the Anthropic error shape every refusal is answered with.
//
// Claude Code re-runs its apiKeyHelper only on 401, so every credential problem (unknown,
// malformed, expired, revoked) must be an AuthenticationError, never a 403.

import type { ServerResponse } from 'node:http';
import { ApiError, renderError, type AnthropicErrorType, type ApiFormat } from '@claude-key/api-formats';

// One list of Anthropic error types for the whole gateway: the wire-format package owns it.
export type { AnthropicErrorType };

/**
 * The gateway's own refusals: one family with api-formats' ApiError (a GatewayError is an
 * ApiError), so every error a request can meet is rendered in the client's shape by `toApiError`
 * and `writeApiError` below, in one place.
 */
export class GatewayError extends ApiError {
  constructor(
    status: number,
    type: AnthropicErrorType,
    message: string,
    /** Extra response headers, e.g. retry-after. */
    readonly headers: Record<string, string> = {},
  ) {
    super(status, type, message, headers['retry-after'] ? Number(headers['retry-after']) : undefined);
    this.name = 'GatewayError';
  }
}

/** Anything thrown while answering a request, as the one error family; undefined for a bug (not a refusal). */
export function asKnownError(err: unknown): ApiError | undefined {
  return err instanceof ApiError ? err : undefined;
}

/** Any error as an ApiError: a refusal as itself, anything else as a 500 that reveals nothing. */
export function toApiError(err: unknown): ApiError {
  return asKnownError(err) ?? new ApiError(500, 'api_error', 'Internal gateway error.');
}

/** Writes an error in the shape of the client's format (the one place errors meet the wire). */
export function writeApiError(res: ServerResponse, format: ApiFormat, err: unknown, extra: Record<string, string> = {}): ApiError {
  const error = toApiError(err);
  const rendered = renderError(format, error);
  const own = err instanceof GatewayError ? err.headers : {};
  res.writeHead(rendered.status, { ...rendered.headers, 'content-length': String(rendered.body.length), ...own, ...extra });
  res.end(rendered.body);
  return error;
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
