// A deterministic stand-in for Anthropic's Messages API (JSON, SSE, count_tokens), wire-compatible
// with the real one including its error shapes: the embedded default upstream, and a standalone
// server for benchmarks (`claude-key-gateway mock`).
//
// Determinism: input tokens = ceil(chars of system+messages+tools / 4); the answer is a fixed
// text; cache_control on the system prompt is a cache write the first time and a read after.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicErrorBody, type AnthropicErrorType } from '../errors.js';

export const MOCK_REPLY = 'Hello from the claude-key mock upstream.';

export interface MockOptions {
  /** When set, requests must carry it in x-api-key (as the real API requires), else 401. */
  apiKey?: string;
  reply?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface MockUpstream {
  url: string;
  server: Server;
  /** Every request that reached the mock, newest last (bounded to the last 100). */
  requests: RecordedRequest[];
  /** Requests ever received, including those no longer kept in `requests`. */
  readonly count: number;
  /** Requests whose answer was cut short because the caller went away. */
  readonly aborted: number;
  /** Streamed answers still being written. */
  readonly activeStreams: number;
  close(): Promise<void>;
}

interface MessagesBody {
  model?: unknown;
  max_tokens?: unknown;
  messages?: unknown;
  system?: unknown;
  tools?: unknown;
  stream?: unknown;
}

export function estimateTokens(body: MessagesBody): number {
  const text = JSON.stringify([body.system ?? '', body.messages ?? [], body.tools ?? []]);
  return Math.max(1, Math.ceil(text.length / 4));
}

const sendError = (res: ServerResponse, status: number, type: AnthropicErrorType, message: string) => {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_mock_error' });
  res.end(anthropicErrorBody(type, message));
};

export async function startMockUpstream(opts: MockOptions = {}, port = 0, host = '127.0.0.1'): Promise<MockUpstream> {
  const reply = opts.reply ?? MOCK_REPLY;
  const words = reply.split(/(?<= )/); // streamed word by word, spaces kept
  const cachedPrefixes = new Set<string>();
  const state = { count: 0, aborted: 0, active: 0, seq: 0 };
  const requests: RecordedRequest[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    state.count++;
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw });
    if (requests.length > 100) requests.shift();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'HEAD' || (req.method === 'GET' && path === '/')) return void res.writeHead(200).end();
    if (opts.apiKey !== undefined && req.headers['x-api-key'] !== opts.apiKey) {
      return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return sendError(res, 404, 'not_found_error', `${req.method} ${path} is not a Messages API endpoint`);
    }
    let body: MessagesBody;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendError(res, 400, 'invalid_request_error', 'There was an issue with the request body: invalid JSON');
    }
    if (typeof body?.model !== 'string') return sendError(res, 400, 'invalid_request_error', 'model: Field required');
    if (!Array.isArray(body.messages)) return sendError(res, 400, 'invalid_request_error', 'messages: Field required');
    const forced = Number(req.headers['x-mock-status']);
    if (forced >= 400) return sendError(res, forced, forced === 529 ? 'overloaded_error' : 'api_error', 'forced by x-mock-status');

    const tokens = estimateTokens(body);
    if (path.endsWith('/count_tokens')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ input_tokens: tokens }));
    }
    if (typeof body.max_tokens !== 'number') return sendError(res, 400, 'invalid_request_error', 'max_tokens: Field required');

    const usage = { input_tokens: tokens, output_tokens: words.length, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    if (JSON.stringify(body.system ?? '').includes('"cache_control"')) {
      const prefix = createHash('sha256').update(JSON.stringify(body.system)).digest('hex');
      const systemTokens = Math.min(tokens - 1, Math.ceil(JSON.stringify(body.system).length / 4));
      usage.input_tokens = tokens - systemTokens;
      if (cachedPrefixes.has(prefix)) usage.cache_read_input_tokens = systemTokens;
      else (usage.cache_creation_input_tokens = systemTokens), cachedPrefixes.add(prefix);
    }
    const id = `msg_mock_${String(++state.seq).padStart(6, '0')}`;
    const message = { id, type: 'message', role: 'assistant', model: body.model, content: [] as unknown[], stop_reason: null as string | null, stop_sequence: null, usage };
    const delayMs = Math.min(Number(req.headers['x-mock-delay-ms']) || 0, 10_000);
    if (body.stream !== true) {
      const answer = { ...message, content: [{ type: 'text', text: reply }], stop_reason: 'end_turn' };
      const send = () => {
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${id}` });
        res.end(JSON.stringify(answer));
      };
      if (!delayMs) return send();
      const timer = setTimeout(send, delayMs);
      res.once('close', () => {
        if (res.writableFinished) return;
        clearTimeout(timer);
        state.aborted++;
      });
      return;
    }
    state.active++;
    res.once('close', () => state.active--);
    streamAnswer(res, { ...message, usage: { ...usage, output_tokens: 1 } }, words, usage.output_tokens, delayMs, () => state.aborted++);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    requests,
    get count() {
      return state.count;
    },
    get aborted() {
      return state.aborted;
    },
    get activeStreams() {
      return state.active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function streamAnswer(
  res: ServerResponse,
  message: Record<string, unknown>,
  words: string[],
  outputTokens: number,
  delayMs: number,
  onAbort: () => void,
): void {
  const events: [string, unknown][] = [
    ['message_start', { type: 'message_start', message }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
    ...words.map((text): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }]),
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_${message.id}` });
  const frame = ([name, data]: [string, unknown]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  if (!delayMs) return void res.end(events.map(frame).join(''));
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return; // 'close' below counts the abort
    res.write(frame(events[i++]!));
    if (i === events.length) clearInterval(timer), res.end();
  }, delayMs);
  res.on('close', () => {
    if (i < events.length) clearInterval(timer), onAbort();
  });
}
