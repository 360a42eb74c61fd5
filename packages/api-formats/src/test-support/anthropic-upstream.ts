// An Anthropic Messages API stand-in (JSON, SSE, count_tokens, documented error shape) for upstream tests.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageJson, sseText, streamEvents } from './anthropic-fixtures.js';
import { listen, readBody, sendAnthropicError, sendJson, type RecordedRequest, type RunningServer } from './http.js';

export interface AnthropicUpstreamOptions {
  apiKey: string;
  /** Answer every call with this error. */
  failWith?: { status: number; type: string; message: string };
  /** After this many events, send an SSE `error` event and stop. */
  midStreamError?: { after: number; type: string; message: string };
}

export interface AnthropicUpstream extends RunningServer {
  requests: RecordedRequest[];
}


export async function startAnthropicUpstream(options: AnthropicUpstreamOptions): Promise<AnthropicUpstream> {
  const requests: RecordedRequest[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    if (req.headers['x-api-key'] !== options.apiKey) return sendAnthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return sendAnthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/messages' && path !== '/v1/messages/count_tokens') return sendAnthropicError(res, 404, 'not_found_error', 'Not found');
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    for (const key of ['anthropic_version', 'anthropic_beta']) {
      if (key in json) return sendAnthropicError(res, 400, 'invalid_request_error', `${key}: Extra inputs are not permitted`);
    }
    if (typeof json['model'] !== 'string') return sendAnthropicError(res, 400, 'invalid_request_error', 'model: Field required');
    if (options.failWith) return sendAnthropicError(res, options.failWith.status, options.failWith.type, options.failWith.message);
    if (path.endsWith('count_tokens')) return sendJson(res, 200, { input_tokens: 42 });
    if (json['stream'] !== true) return sendJson(res, 200, messageJson(json['model']));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const events = streamEvents(json['model']);
    const cut = options.midStreamError;
    res.write(sseText(cut ? events.slice(0, cut.after) : events));
    if (cut) res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: cut.type, message: cut.message } })}\n\n`);
    res.end();
  };
  const running = await listen((req, res) => {
    handle(req, res).catch((err: unknown) => sendAnthropicError(res, 500, 'api_error', String(err)));
  });
  return { ...running, requests };
}
