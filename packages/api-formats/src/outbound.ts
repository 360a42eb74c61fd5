// Builds the upstream request (URL, headers, body) for a deployment from a CanonicalRequest.
//
// Credentials are not applied here: Bedrock requests are signed by bedrock-sign.ts and Vertex
// requests get a bearer from vertex-auth.ts; the gateway adds an Anthropic upstream's key itself.

import { ConfigError } from '@claude-key/core';
import { editObject } from './json-body.js';
import type { CanonicalRequest, Deployment, UpstreamKind, UpstreamRequest } from './types.js';

export const ANTHROPIC_API_VERSION = '2023-06-01';
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/**
 * The version value an upstream accepts. A client's own value is kept when it is already of the
 * upstream's family (a dated header for Anthropic, `bedrock-*` / `vertex-*` bodies for the
 * clouds); anything else becomes that upstream's documented default.
 */
export function anthropicVersionFor(kind: UpstreamKind, clientVersion: string | undefined, override?: string): string {
  if (override) return override;
  switch (kind) {
    case 'bedrock':
      return clientVersion?.startsWith('bedrock-') ? clientVersion : BEDROCK_ANTHROPIC_VERSION;
    case 'vertex':
      return clientVersion?.startsWith('vertex-') ? clientVersion : VERTEX_ANTHROPIC_VERSION;
    default:
      return clientVersion && /^\d{4}-\d{2}-\d{2}$/.test(clientVersion) ? clientVersion : ANTHROPIC_API_VERSION;
  }
}

function need(value: string | undefined, what: string, deployment: Deployment): string {
  if (!value) throw new ConfigError(`${deployment.kind} deployment for model ${deployment.model} has no ${what}`, { hint: `set ${what} in its config` });
  return value;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Percent-encodes a path segment but keeps RFC 3986 pchar such as `@` and `:`, as the Vertex SDK does. */
function pathSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent);
}

/** Bedrock Runtime's public endpoint for a region. */
export function bedrockRuntimeUrl(region: string): string {
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

/** Vertex AI's public endpoint for a location, as the Vertex SDK picks it. */
export function vertexUrl(location: string): string {
  if (location === 'global') return 'https://aiplatform.googleapis.com/v1';
  if (location === 'us' || location === 'eu') return `https://aiplatform.${location}.rep.googleapis.com/v1`;
  return `https://${location}-aiplatform.googleapis.com/v1`;
}

function anthropicRequest(request: CanonicalRequest, deployment: Deployment): UpstreamRequest {
  const base = trimSlash(need(deployment.baseUrl, 'baseUrl', deployment));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': anthropicVersionFor(deployment.kind, request.anthropicVersion, deployment.anthropicVersion),
  };
  if (request.anthropicBeta.length > 0) headers['anthropic-beta'] = request.anthropicBeta.join(',');
  const body = request.model === deployment.model ? request.body : editObject(request.body, { set: { model: deployment.model } });
  return {
    method: 'POST',
    url: `${base}/v1/messages${request.countTokens ? '/count_tokens' : ''}`,
    headers,
    body,
    responseType: request.stream ? 'sse' : 'json',
  };
}

function bedrockRequest(request: CanonicalRequest, deployment: Deployment): UpstreamRequest {
  const base = trimSlash(deployment.baseUrl ?? bedrockRuntimeUrl(need(deployment.region, 'region', deployment)));
  const invokeBody = editObject(request.body, {
    remove: ['model', 'stream'],
    set: {
      anthropic_version: anthropicVersionFor('bedrock', request.anthropicVersion, deployment.anthropicVersion),
      anthropic_beta: request.anthropicBeta.length > 0 ? request.anthropicBeta : undefined,
    },
  });
  const action = request.countTokens ? 'count-tokens' : request.stream ? 'invoke-with-response-stream' : 'invoke';
  const body = request.countTokens
    ? Buffer.from(JSON.stringify({ input: { invokeModel: { body: invokeBody.toString('base64') } } }))
    : invokeBody;
  return {
    method: 'POST',
    url: `${base}/model/${encodeURIComponent(deployment.model)}/${action}`,
    headers: {
      'content-type': 'application/json',
      accept: request.stream ? 'application/vnd.amazon.eventstream' : 'application/json',
    },
    body,
    responseType: request.stream ? 'eventstream' : 'json',
  };
}

function vertexRequest(request: CanonicalRequest, deployment: Deployment): UpstreamRequest {
  const location = need(deployment.region, 'region', deployment);
  const project = need(deployment.project, 'project', deployment);
  const base = trimSlash(deployment.baseUrl ?? vertexUrl(location));
  const version = anthropicVersionFor('vertex', request.anthropicVersion, deployment.anthropicVersion);
  // count-tokens names the model in the body; the model endpoints name it in the URL.
  const body = request.countTokens
    ? editObject(request.body, { set: { anthropic_version: version, model: deployment.model } })
    : editObject(request.body, { remove: ['model'], set: { anthropic_version: version } });
  const modelSegment = request.countTokens ? 'count-tokens' : pathSegment(deployment.model);
  const specifier = request.stream ? 'streamRawPredict' : 'rawPredict';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (request.anthropicBeta.length > 0) headers['anthropic-beta'] = request.anthropicBeta.join(',');
  return {
    method: 'POST',
    url: `${base}/projects/${pathSegment(project)}/locations/${pathSegment(location)}/publishers/anthropic/models/${modelSegment}:${specifier}`,
    headers,
    body,
    responseType: request.stream ? 'sse' : 'json',
  };
}

/** The upstream request for `deployment`, apart from credentials. Throws ConfigError on an incomplete deployment. */
export function buildUpstreamRequest(request: CanonicalRequest, deployment: Deployment): UpstreamRequest {
  switch (deployment.kind) {
    case 'anthropic':
    case 'mock':
      return anthropicRequest(request, deployment);
    case 'bedrock':
      return bedrockRequest(request, deployment);
    case 'vertex':
      return vertexRequest(request, deployment);
  }
}
