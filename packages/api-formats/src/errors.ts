// Error shapes of the three formats, and conversion between them through one canonical error.
//
// Canonical = the Anthropic error type plus an HTTP status. Anthropic and Vertex clients get the
// Anthropic body `{"type":"error","error":{"type","message"}}` (Vertex answers model errors for
// Claude in that shape, and the Vertex SDK reads `error.message` from it or from Google's shape);
// Bedrock clients get `x-amzn-ErrorType` + `{"message"}` as restJson1 requires, except that an
// unusable gateway credential is 401 (real AWS says 403) because Claude Code re-runs its
// apiKeyHelper only on 401.

import type { ApiFormat, UpstreamKind } from './types.js';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

/** One error in canonical form; throwable so parsers can reject a request in one line. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: AnthropicErrorType;
  /** Seconds, copied to `retry-after` when set. */
  readonly retryAfter: number | undefined;

  constructor(status: number, type: AnthropicErrorType, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.retryAfter = retryAfter;
  }
}

interface TypeInfo {
  status: number;
  bedrock: string;
  bedrockStatus: number;
  google: string;
}

const BY_TYPE: Record<AnthropicErrorType, TypeInfo> = {
  invalid_request_error: { status: 400, bedrock: 'ValidationException', bedrockStatus: 400, google: 'INVALID_ARGUMENT' },
  authentication_error: { status: 401, bedrock: 'UnrecognizedClientException', bedrockStatus: 401, google: 'UNAUTHENTICATED' },
  permission_error: { status: 403, bedrock: 'AccessDeniedException', bedrockStatus: 403, google: 'PERMISSION_DENIED' },
  not_found_error: { status: 404, bedrock: 'ResourceNotFoundException', bedrockStatus: 404, google: 'NOT_FOUND' },
  request_too_large: { status: 413, bedrock: 'ValidationException', bedrockStatus: 400, google: 'INVALID_ARGUMENT' },
  rate_limit_error: { status: 429, bedrock: 'ThrottlingException', bedrockStatus: 429, google: 'RESOURCE_EXHAUSTED' },
  api_error: { status: 500, bedrock: 'InternalServerException', bedrockStatus: 500, google: 'INTERNAL' },
  timeout_error: { status: 504, bedrock: 'ModelTimeoutException', bedrockStatus: 408, google: 'DEADLINE_EXCEEDED' },
  overloaded_error: { status: 529, bedrock: 'ServiceUnavailableException', bedrockStatus: 503, google: 'UNAVAILABLE' },
};

const FROM_BEDROCK: Record<string, AnthropicErrorType> = {
  ValidationException: 'invalid_request_error',
  ServiceQuotaExceededException: 'rate_limit_error',
  AccessDeniedException: 'permission_error',
  UnrecognizedClientException: 'authentication_error',
  InvalidSignatureException: 'authentication_error',
  ExpiredTokenException: 'authentication_error',
  IncompleteSignatureException: 'authentication_error',
  ResourceNotFoundException: 'not_found_error',
  ThrottlingException: 'rate_limit_error',
  ModelNotReadyException: 'overloaded_error',
  ServiceUnavailableException: 'overloaded_error',
  ModelTimeoutException: 'timeout_error',
  ModelErrorException: 'api_error',
  ModelStreamErrorException: 'api_error',
  InternalServerException: 'api_error',
};

const FROM_GOOGLE: Record<string, AnthropicErrorType> = {
  INVALID_ARGUMENT: 'invalid_request_error',
  FAILED_PRECONDITION: 'invalid_request_error',
  OUT_OF_RANGE: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error',
  PERMISSION_DENIED: 'permission_error',
  NOT_FOUND: 'not_found_error',
  RESOURCE_EXHAUSTED: 'rate_limit_error',
  UNAVAILABLE: 'overloaded_error',
  DEADLINE_EXCEEDED: 'timeout_error',
  INTERNAL: 'api_error',
  UNKNOWN: 'api_error',
};

const KNOWN_TYPES = new Set(Object.keys(BY_TYPE));

/** True for the error types this package maps; others (new or vendor-specific) are treated as `api_error`. */
export function isAnthropicErrorType(value: unknown): value is AnthropicErrorType {
  return typeof value === 'string' && KNOWN_TYPES.has(value);
}

/** The Anthropic error type a bare HTTP status stands for. */
export function typeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 408: return 'timeout_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 503: case 529: return 'overloaded_error';
    case 504: return 'timeout_error';
    default: return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

/** The HTTP status Anthropic uses for an error type. */
export function statusForType(type: AnthropicErrorType): number {
  return BY_TYPE[type].status;
}

/** Bedrock's exception name for an Anthropic error type, e.g. `ThrottlingException`. */
export function bedrockErrorName(type: AnthropicErrorType): string {
  return BY_TYPE[type].bedrock;
}

/** A Bedrock error code with its restJson1 decorations (`Foo:http://...`, `ns#Foo`) removed. */
export function bedrockErrorCode(raw: string): string {
  const noUrl = raw.split(':')[0] ?? raw;
  return noUrl.includes('#') ? noUrl.slice(noUrl.lastIndexOf('#') + 1) : noUrl;
}

/** Bedrock's `:exception-type` / error name to Anthropic's, for either spelling (`throttlingException`). */
export function typeFromBedrock(code: string): AnthropicErrorType | undefined {
  const name = bedrockErrorCode(code);
  return FROM_BEDROCK[name.charAt(0).toUpperCase() + name.slice(1)];
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function jsonHeaders(err: ApiError, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  return headers;
}

/** `{"type":"error","error":{"type","message"}}`. */
export function anthropicErrorBody(err: ApiError): Buffer {
  return Buffer.from(JSON.stringify({ type: 'error', error: { type: err.type, message: err.message } }));
}

export interface RenderOptions {
  /** Send Vertex clients Google's `{"error":{"code","message","status"}}` instead of Anthropic's shape. */
  vertexShape?: 'anthropic' | 'google';
}

/** The HTTP response that tells a client of `format` about `err`. */
export function renderError(format: ApiFormat, err: ApiError, options: RenderOptions = {}): ErrorResponse {
  const info = BY_TYPE[err.type];
  if (format === 'bedrock') {
    // Keep a caller-visible 401/403/429/5xx distinction; Bedrock has no 529, so overload is 503.
    const status = err.status === 401 || err.type === 'authentication_error' ? 401 : info.bedrockStatus;
    return {
      status,
      headers: jsonHeaders(err, { 'x-amzn-errortype': info.bedrock }),
      body: Buffer.from(JSON.stringify({ message: err.message })),
    };
  }
  if (format === 'vertex' && options.vertexShape === 'google') {
    const status = err.status === 529 ? 503 : err.status;
    return {
      status,
      headers: jsonHeaders(err),
      body: Buffer.from(JSON.stringify({ error: { code: status, message: err.message, status: info.google } })),
    };
  }
  return { status: err.status, headers: jsonHeaders(err), body: anthropicErrorBody(err) };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function safeJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads any upstream's error answer into canonical form: Anthropic's shape, Bedrock's
 * `x-amzn-ErrorType` + `{"message"}`, or Google's `{"error":{...}}` (also wrapped in an array,
 * as streamRawPredict sends it). Unknown bodies fall back to the status; the message is taken
 * only from known fields so an upstream's raw body never leaks through verbatim.
 */
export function parseUpstreamError(
  kind: UpstreamKind,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | string,
): ApiError {
  const retryAfterHeader = header(headers, 'retry-after');
  const retryAfter = retryAfterHeader && /^\d+$/.test(retryAfterHeader) ? Number(retryAfterHeader) : undefined;
  let parsed = safeJson(body);
  if (Array.isArray(parsed)) parsed = parsed[0];
  const fallback = `upstream ${kind} answered HTTP ${status}`;
  if (isRecord(parsed) && isRecord(parsed['error'])) {
    const inner = parsed['error'];
    const message = typeof inner['message'] === 'string' ? inner['message'] : fallback;
    if (isAnthropicErrorType(inner['type'])) {
      return new ApiError(status, inner['type'], message, retryAfter);
    }
    if (typeof inner['status'] === 'string') {
      return new ApiError(status, FROM_GOOGLE[inner['status']] ?? typeForStatus(status), message, retryAfter);
    }
    return new ApiError(status, typeForStatus(status), message, retryAfter);
  }
  const code = header(headers, 'x-amzn-errortype') ?? (isRecord(parsed) && typeof parsed['__type'] === 'string' ? parsed['__type'] : undefined);
  const message = isRecord(parsed)
    ? typeof parsed['message'] === 'string' ? parsed['message'] : typeof parsed['Message'] === 'string' ? parsed['Message'] : fallback
    : fallback;
  const type = (code && typeFromBedrock(code)) || typeForStatus(status);
  return new ApiError(status, type, message, retryAfter);
}

/** Whether another deployment may be tried: rate limits, overload, timeouts and 5xx (only before the first byte reaches the client). */
export function isRetryable(err: ApiError): boolean {
  return err.status === 429 || err.status >= 500 || err.type === 'rate_limit_error' || err.type === 'overloaded_error' || err.type === 'timeout_error';
}

/**
 * What to tell the client about an upstream error. An upstream refusing the gateway's own cloud
 * or API credentials is the gateway's fault, not the caller's: passing the 401 on would make
 * Claude Code re-run its helper for nothing, so it becomes a 502. When the caller's credentials
 * went upstream (Vertex client-specified), the refusal is theirs and passes through.
 */
export function upstreamErrorForClient(err: ApiError, options: { callerCredentials?: boolean } = {}): ApiError {
  const refused = err.status === 401 || err.status === 403 || err.type === 'authentication_error' || err.type === 'permission_error';
  if (!refused || options.callerCredentials) return err;
  return new ApiError(502, 'api_error', `the upstream refused the gateway's credentials (HTTP ${err.status})`);
}
