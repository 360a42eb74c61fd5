// A Vertex AI stand-in for Claude: checks the bearer token, rejects what rawPredict rejects, and answers
// rawPredict (JSON), streamRawPredict (Anthropic SSE) and count-tokens; auth errors in Google's shape.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageJson, sseText, streamEvents } from './anthropic-fixtures.js';
import { listen, readBody, sendAnthropicError, sendJson, type RecordedRequest, type RunningServer } from './http.js';

export interface VertexEndpointOptions {
  project: string;
  location: string;
  /** The only access token accepted. */
  token: string;
}

export interface VertexEndpoint extends RunningServer {
  requests: RecordedRequest[];
}

const PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

function googleError(res: ServerResponse, code: number, status: string, message: string): void {
  sendJson(res, code, { error: { code, message, status } });
}


export async function startVertexEndpoint(options: VertexEndpointOptions): Promise<VertexEndpoint> {
  const requests: RecordedRequest[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    const match = PATH.exec(req.url ?? '');
    if (!match || req.method !== 'POST') return googleError(res, 404, 'NOT_FOUND', 'The requested URL was not found on this server.');
    if (decodeURIComponent(match[1]!) !== options.project || match[2] !== options.location) {
      return googleError(res, 403, 'PERMISSION_DENIED', 'Permission denied on resource project.');
    }
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (json['anthropic_version'] !== 'vertex-2023-10-16') {
      return sendAnthropicError(res, 400, 'invalid_request_error', 'anthropic_version: vertex-2023-10-16 is required');
    }
    const model = decodeURIComponent(match[3]!);
    if (model === 'count-tokens') {
      if (typeof json['model'] !== 'string') return sendAnthropicError(res, 400, 'invalid_request_error', 'model: Field required');
      return sendJson(res, 200, { input_tokens: 42 });
    }
    if ('model' in json) return sendAnthropicError(res, 400, 'invalid_request_error', 'model: Extra inputs are not permitted');
    if (match[4] === 'rawPredict') return sendJson(res, 200, messageJson(model));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.end(sseText(streamEvents(model)));
  };
  const running = await listen((req, res) => {
    handle(req, res).catch((err: unknown) => googleError(res, 500, 'INTERNAL', String(err)));
  });
  return { ...running, requests };
}
