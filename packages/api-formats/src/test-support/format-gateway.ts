// A minimal gateway built only from this package's functions: the wiring the real gateway needs,
// small enough to read in one go. Tests put official clients in front of it and test upstreams behind.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, parseUpstreamError, renderError, upstreamErrorForClient } from '../errors.js';
import { formatOfPath, matchInbound, parseInbound, type InboundOptions } from '../inbound.js';
import { inferenceProfilesBody, type InferenceProfileEntry } from '../inference-profiles.js';
import { buildUpstreamRequest } from '../outbound.js';
import { createStreamTranslator, planResponse, translateJsonBody } from '../response.js';
import type { Deployment, UpstreamRequest } from '../types.js';
import { listen, readBody, type RunningServer } from './http.js';

export interface FormatGatewayOptions {
  deployment: Deployment;
  /** Adds the upstream's credentials (sign, bearer, api key). */
  authorize(request: UpstreamRequest, callerHeaders: IncomingMessage['headers']): Promise<UpstreamRequest>;
  /** The key callers must present (x-api-key, Authorization: Bearer, or Proxy-Authorization: Bearer). */
  clientKey: string;
  profiles?: InferenceProfileEntry[];
  inbound?: InboundOptions;
  /** Read the caller's key from Proxy-Authorization only (Vertex client-specified credentials). */
  proxyAuthorization?: boolean;
  /** Called with every request line, for tests that check what a client asked for. */
  onRequest?: (method: string, url: string) => void;
}

function callerKey(headers: IncomingMessage['headers'], proxyOnly: boolean): string | undefined {
  const bearer = (value: string | undefined) => (value && /^Bearer\s+/i.test(value) ? value.replace(/^Bearer\s+/i, '') : undefined);
  if (proxyOnly) return bearer(headers['proxy-authorization']);
  const apiKey = headers['x-api-key'];
  return (Array.isArray(apiKey) ? apiKey[0] : apiKey) ?? bearer(headers.authorization);
}

function sendError(res: ServerResponse, format: ReturnType<typeof formatOfPath>, err: ApiError): void {
  const rendered = renderError(format, err);
  res.writeHead(rendered.status, rendered.headers);
  res.end(rendered.body);
}

async function handle(options: FormatGatewayOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  options.onRequest?.(req.method ?? '', url);
  const format = formatOfPath(url, options.inbound);
  const route = matchInbound(req.method ?? 'GET', url, options.inbound);
  if (!route) throw new ApiError(404, 'not_found_error', `no such route: ${url.split('?')[0]}`);
  if (callerKey(req.headers, options.proxyAuthorization ?? false) !== options.clientKey) {
    throw new ApiError(401, 'authentication_error', 'invalid gateway credential');
  }
  if (route.kind === 'inference-profiles') {
    const body = inferenceProfilesBody(options.profiles ?? [], route.query, { region: 'us-east-1' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const canonical = parseInbound(route, req.headers, await readBody(req));
  const upstream = await options.authorize(buildUpstreamRequest(canonical, options.deployment), req.headers);
  const { host: _host, ...headers } = upstream.headers;
  const answer = await fetch(upstream.url, { method: upstream.method, headers, body: upstream.body });
  if (!answer.ok) {
    const errorBody = Buffer.from(await answer.arrayBuffer());
    const upstreamError = parseUpstreamError(options.deployment.kind, answer.status, Object.fromEntries(answer.headers), errorBody);
    throw upstreamErrorForClient(upstreamError, { callerCredentials: options.proxyAuthorization ?? false });
  }
  const plan = planResponse(canonical, options.deployment.kind);
  res.writeHead(200, { 'content-type': plan.contentType });
  if (!canonical.stream) {
    res.end(translateJsonBody(canonical, options.deployment.kind, Buffer.from(await answer.arrayBuffer())));
    return;
  }
  const source = Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream<Uint8Array>);
  const translator = createStreamTranslator(plan);
  await (translator ? pipeline(source, translator, res) : pipeline(source, res));
}

export async function startFormatGateway(options: FormatGatewayOptions): Promise<RunningServer> {
  return listen((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      const apiError = err instanceof ApiError ? err : new ApiError(502, 'api_error', 'upstream request failed');
      if (res.headersSent) res.destroy();
      else sendError(res, formatOfPath(req.url ?? '/', options.inbound), apiError);
    });
  });
}
