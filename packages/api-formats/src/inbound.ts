// Recognises a model request in any of the three client formats and parses it into a CanonicalRequest.
//
// Two steps so the gateway can authenticate and refuse before reading the body: matchInbound()
// needs only method and URL; parseInbound() then reads headers and body.

import { ApiError } from './errors.js';
import { editObject, scanObject, type ObjectEdits } from './json-body.js';
import type { ApiFormat, CanonicalRequest } from './types.js';

export interface InboundOptions {
  /** Where Bedrock clients point `ANTHROPIC_BEDROCK_BASE_URL`; default `/bedrock`. */
  bedrockPrefix?: string;
  /** Where Vertex clients point `ANTHROPIC_VERTEX_BASE_URL`; default `/vertex_ai/v1`. */
  vertexPrefix?: string;
  /** Extra prefix for Anthropic Messages besides the root; default `/anthropic`. */
  anthropicPrefix?: string;
}

export type InboundRoute =
  | {
      kind: 'model';
      format: ApiFormat;
      countTokens: boolean;
      /** From the URL (Bedrock, Vertex); Anthropic and Vertex count-tokens carry it in the body. */
      pathModel: string | undefined;
      /** From the URL (Bedrock, Vertex); Anthropic carries it in the body. */
      pathStream: boolean | undefined;
      /** Vertex only: the project and location from the URL. */
      project?: string;
      location?: string;
    }
  | { kind: 'inference-profiles'; format: 'bedrock'; query: URLSearchParams };

/** Node's incoming header object: lower-case names, repeated headers as arrays. */
export type HeaderMap = Record<string, string | string[] | undefined>;

const BEDROCK_ACTIONS: Record<string, { stream: boolean; countTokens: boolean }> = {
  invoke: { stream: false, countTokens: false },
  'invoke-with-response-stream': { stream: true, countTokens: false },
  'count-tokens': { stream: false, countTokens: true },
};

function stripPrefix(path: string, prefix: string): string | undefined {
  const clean = prefix.replace(/\/+$/, '');
  if (clean === '') return path;
  return path === clean || path.startsWith(clean + '/') ? path.slice(clean.length) : undefined;
}

function decodeSegment(segment: string, format: ApiFormat): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'invalid_request_error', `the model id in the ${format} URL is not valid percent-encoding`);
  }
}

function requirePost(method: string, format: ApiFormat): void {
  if (method.toUpperCase() !== 'POST') {
    throw new ApiError(405, 'invalid_request_error', `use POST for ${format} model requests`);
  }
}

function matchBedrock(method: string, rest: string, url: string): InboundRoute | undefined {
  if (rest === '/inference-profiles') {
    if (method.toUpperCase() !== 'GET') throw new ApiError(405, 'invalid_request_error', 'use GET for /inference-profiles');
    return { kind: 'inference-profiles', format: 'bedrock', query: new URL(url, PARSE_BASE).searchParams };
  }
  // Split before decoding: an ARN arrives with its slashes as %2F.
  const parts = rest.split('/');
  if (parts.length !== 4 || parts[1] !== 'model') return undefined;
  const action = BEDROCK_ACTIONS[parts[3]!];
  if (!action || !parts[2]) return undefined;
  requirePost(method, 'bedrock');
  return {
    kind: 'model',
    format: 'bedrock',
    countTokens: action.countTokens,
    pathModel: decodeSegment(parts[2], 'bedrock'),
    pathStream: action.stream,
  };
}

const VERTEX_PATH = /^\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/]+):(rawPredict|streamRawPredict)$/;

function matchVertex(method: string, rest: string): InboundRoute | undefined {
  const match = VERTEX_PATH.exec(rest);
  if (!match) return undefined;
  requirePost(method, 'vertex');
  const model = decodeSegment(match[3]!, 'vertex');
  const countTokens = model === 'count-tokens';
  return {
    kind: 'model',
    format: 'vertex',
    countTokens,
    pathModel: countTokens ? undefined : model,
    pathStream: match[4] === 'streamRawPredict',
    project: decodeSegment(match[1]!, 'vertex'),
    location: decodeSegment(match[2]!, 'vertex'),
  };
}

function matchAnthropic(method: string, rest: string): InboundRoute | undefined {
  if (rest !== '/v1/messages' && rest !== '/v1/messages/count_tokens') return undefined;
  requirePost(method, 'anthropic');
  return { kind: 'model', format: 'anthropic', countTokens: rest.endsWith('/count_tokens'), pathModel: undefined, pathStream: undefined };
}

const PARSE_BASE = 'http://gateway.invalid';
/** Only RFC 3986 path characters, no segment starting with a dot (or its %2e spelling), no leading `//`. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-._~:@%!$&'()*+,;=]*)+$/;
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

/**
 * A request target's path, as the WHATWG URL parser gives it. Paths clients send (plain
 * characters, no dot segments) are already in that form, so they are cut at the query without a
 * URL parse on every request; anything the parser would rewrite (dot segments, a leading `//`,
 * characters it escapes, backslashes) goes through it.
 */
export function requestPath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (PLAIN_PATH.test(path) && !path.startsWith('//') && !DOT_SEGMENT.test(path)) return path;
  try {
    return new URL(url, PARSE_BASE).pathname;
  } catch {
    // `GET //` is a valid request line but no URL: it matches none of our paths (a 404, not a crash).
    return path;
  }
}

/**
 * The format a path belongs to by its prefix alone, so errors raised before parsing (a bad
 * credential, an unknown route) can already be answered in the client's shape.
 */
export function formatOfPath(url: string, options: InboundOptions = {}): ApiFormat {
  const path = requestPath(url);
  if (stripPrefix(path, options.bedrockPrefix ?? '/bedrock') !== undefined) return 'bedrock';
  if (stripPrefix(path, options.vertexPrefix ?? '/vertex_ai/v1') !== undefined) return 'vertex';
  return 'anthropic';
}

/**
 * Which format and operation a request is, from its method and URL (path + query) alone.
 * Returns undefined for paths that are none of ours (health checks, admin, probes).
 */
export function matchInbound(method: string, url: string, options: InboundOptions = {}): InboundRoute | undefined {
  const path = requestPath(url);
  const bedrockRest = stripPrefix(path, options.bedrockPrefix ?? '/bedrock');
  if (bedrockRest !== undefined) return matchBedrock(method, bedrockRest, url);
  const vertexRest = stripPrefix(path, options.vertexPrefix ?? '/vertex_ai/v1');
  if (vertexRest !== undefined) return matchVertex(method, vertexRest);
  const anthropicRest = stripPrefix(path, options.anthropicPrefix ?? '/anthropic');
  return matchAnthropic(method, anthropicRest ?? path);
}

function headerValues(headers: HeaderMap, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Beta names are tokens such as `context-management-2025-06-27`; anything else could smuggle a header. */
const BETA_NAME = /^[A-Za-z0-9._-]{1,128}$/;

function checkBetas(betas: string[]): string[] {
  const bad = betas.find((beta) => !BETA_NAME.test(beta));
  if (bad !== undefined) throw new ApiError(400, 'invalid_request_error', 'anthropic-beta values must be names like context-management-2025-06-27');
  return betas;
}

/** `anthropic-beta` may repeat and each value is a comma list. */
function betasFromHeaders(headers: HeaderMap): string[] {
  return checkBetas(headerValues(headers, 'anthropic-beta').flatMap((value) => value.split(',')).map((beta) => beta.trim()).filter(Boolean));
}

/**
 * JSON parsers disagree on duplicate keys (first or last wins), so a body naming `model` twice
 * could be checked as one model and served as another. Scan only when the text says so twice.
 */
function rejectDuplicateKeys(body: Buffer, format: ApiFormat): void {
  for (const key of ['"model"', '"stream"']) {
    const first = body.indexOf(key);
    if (first < 0 || body.indexOf(key, first + 1) < 0) continue;
    const seen = new Set<string>();
    for (const member of scanObject(body).members) {
      if ((member.key === 'model' || member.key === 'stream') && seen.has(member.key)) {
        throw new ApiError(400, 'invalid_request_error', `the ${format} request body names ${member.key} twice`);
      }
      seen.add(member.key);
    }
    return;
  }
}

function parseJsonObject(body: Buffer, format: ApiFormat): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_request_error', `the ${format} request body is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(400, 'invalid_request_error', `the ${format} request body must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ApiError(400, 'invalid_request_error', `${field} must be a string`);
  return value;
}

function betasFromBody(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((beta) => typeof beta === 'string')) {
    throw new ApiError(400, 'invalid_request_error', 'anthropic_beta must be an array of strings');
  }
  return checkBetas(value);
}

function union(first: string[], second: string[]): string[] {
  return [...new Set([...first, ...second])];
}

/** Bedrock CountTokens wraps the InvokeModel body: `{"input":{"invokeModel":{"body":"<base64>"}}}`. */
function unwrapBedrockCountTokens(body: Buffer): Buffer {
  const wrapper = parseJsonObject(body, 'bedrock');
  const input = wrapper['input'] as { invokeModel?: { body?: unknown } } | undefined;
  const inner = input?.invokeModel?.body;
  if (typeof inner !== 'string') {
    throw new ApiError(400, 'invalid_request_error', 'count-tokens needs input.invokeModel.body (base64 of an InvokeModel body)');
  }
  return Buffer.from(inner, 'base64');
}

/** Reads a matched model request into canonical form. Throws ApiError (render it with renderError). */
export function parseInbound(route: Extract<InboundRoute, { kind: 'model' }>, headers: HeaderMap, rawBody: Buffer): CanonicalRequest {
  const { format, countTokens } = route;
  const body = format === 'bedrock' && countTokens ? unwrapBedrockCountTokens(rawBody) : rawBody;
  const json = parseJsonObject(body, format);
  const headerVersion = headerValues(headers, 'anthropic-version')[0];
  const headerBetas = betasFromHeaders(headers);

  if (format === 'anthropic') {
    rejectDuplicateKeys(body, format);
    const model = optionalString(json['model'], 'model');
    if (!model) throw new ApiError(400, 'invalid_request_error', 'model: field required');
    return {
      format,
      model,
      stream: !countTokens && json['stream'] === true,
      countTokens,
      anthropicVersion: headerVersion,
      anthropicBeta: headerBetas,
      body,
    };
  }

  const bodyVersion = optionalString(json['anthropic_version'], 'anthropic_version');
  const anthropicBeta = union(betasFromBody(json['anthropic_beta']), headerBetas);
  const model = route.pathModel ?? optionalString(json['model'], 'model');
  if (!model) throw new ApiError(400, 'invalid_request_error', 'model: field required');
  const stream = !countTokens && route.pathStream === true;
  const edits: ObjectEdits = {
    remove: ['anthropic_version', 'anthropic_beta', ...(stream ? [] : ['stream'])],
    set: { model, stream: stream ? true : undefined },
  };
  return {
    format,
    model,
    stream,
    countTokens,
    anthropicVersion: bodyVersion ?? headerVersion,
    anthropicBeta,
    body: editObject(body, edits),
  };
}

/** Both steps at once, for callers that already have the body. */
export function parseInboundRequest(
  request: { method: string; url: string; headers: HeaderMap; body: Buffer },
  options: InboundOptions = {},
): CanonicalRequest | undefined {
  const route = matchInbound(request.method, request.url, options);
  if (!route || route.kind !== 'model') return undefined;
  return parseInbound(route, request.headers, request.body);
}
