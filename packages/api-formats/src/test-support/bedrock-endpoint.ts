// A Bedrock Runtime stand-in: checks SigV4, rejects what Bedrock rejects, answers InvokeModel,
// InvokeModelWithResponseStream (AWS event stream) and CountTokens in Bedrock's wire format.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { messageJson, streamEvents } from './anthropic-fixtures.js';
import { listen, readBody, sendJson, type RecordedRequest, type RunningServer } from './http.js';
import { verifySigV4, type KnownKey } from './sigv4-check.js';

export interface BedrockEndpointOptions {
  region: string;
  keys: ReadonlyMap<string, KnownKey>;
  now?: () => Date;
  /** Answer every model call with this Bedrock error. */
  failWith?: { status: number; errorType: string; message: string };
  /** After this many chunks, end the stream with an exception of this `:exception-type`. */
  midStreamException?: { after: number; exceptionType: string; message: string };
}

export interface BedrockEndpoint extends RunningServer {
  requests: RecordedRequest[];
}

function bedrockError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { message }, { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
}

/** What Bedrock checks in an Anthropic InvokeModel body; returns the complaint, if any. */
function invalidInvokeBody(body: Buffer): string | undefined {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'Malformed input request, please reformat your input and try again.';
  }
  if (typeof json['anthropic_version'] !== 'string' || !json['anthropic_version'].startsWith('bedrock-')) {
    return 'Malformed input request: #: required key [anthropic_version] not found';
  }
  for (const key of ['model', 'stream']) {
    if (key in json) return `Malformed input request: #: extraneous key [${key}] is not permitted`;
  }
  if ('anthropic_beta' in json && !Array.isArray(json['anthropic_beta'])) return 'Malformed input request: #/anthropic_beta: expected type: JSONArray';
  return undefined;
}

function writeStream(res: ServerResponse, modelId: string, options: BedrockEndpointOptions): void {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-content-type': 'application/json' });
  streamEvents(modelId).forEach((event, index) => {
    const cut = options.midStreamException;
    if (cut && index === cut.after) {
      res.write(
        codec.encode({
          headers: {
            ':exception-type': { type: 'string', value: cut.exceptionType },
            ':content-type': { type: 'string', value: 'application/json' },
            ':message-type': { type: 'string', value: 'exception' },
          },
          body: fromUtf8(JSON.stringify({ message: cut.message })),
        }),
      );
    }
    if (cut && index >= cut.after) return;
    // Real Bedrock pads each payload with a "p" field; clients must ignore it.
    const payload = JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abcdefghijklmnop'.slice(0, 1 + index) });
    res.write(
      codec.encode({
        headers: {
          ':event-type': { type: 'string', value: 'chunk' },
          ':content-type': { type: 'string', value: 'application/json' },
          ':message-type': { type: 'string', value: 'event' },
        },
        body: fromUtf8(payload),
      }),
    );
  });
  res.end();
}

export async function startBedrockEndpoint(options: BedrockEndpointOptions): Promise<BedrockEndpoint> {
  const requests: RecordedRequest[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    requests.push(recorded);
    const verdict = verifySigV4(recorded, options.keys, (options.now ?? (() => new Date()))());
    if (!verdict.ok) return bedrockError(res, 403, verdict.errorType, verdict.message);
    if (verdict.service !== 'bedrock' || verdict.region !== options.region) {
      return bedrockError(res, 403, 'InvalidSignatureException', `Credential should be scoped to correct service: 'bedrock' in ${options.region}.`);
    }
    const match = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/.exec(recorded.url);
    if (!match || req.method !== 'POST') return bedrockError(res, 404, 'UnknownOperationException', 'Unknown operation');
    const modelId = decodeURIComponent(match[1]!);
    if (options.failWith) return bedrockError(res, options.failWith.status, options.failWith.errorType, options.failWith.message);
    if (match[2] === 'count-tokens') {
      const wrapper = JSON.parse(body.toString('utf8')) as { input?: { invokeModel?: { body?: string } } };
      const inner = wrapper.input?.invokeModel?.body;
      if (typeof inner !== 'string') return bedrockError(res, 400, 'ValidationException', 'input.invokeModel.body is required');
      const complaint = invalidInvokeBody(Buffer.from(inner, 'base64'));
      if (complaint) return bedrockError(res, 400, 'ValidationException', complaint);
      return sendJson(res, 200, { inputTokens: 42 });
    }
    const complaint = invalidInvokeBody(body);
    if (complaint) return bedrockError(res, 400, 'ValidationException', complaint);
    if (match[2] === 'invoke') return sendJson(res, 200, messageJson(modelId), { 'x-amzn-bedrock-input-token-count': '12', 'x-amzn-bedrock-output-token-count': '7' });
    writeStream(res, modelId, options);
  };
  const running = await listen((req, res) => {
    handle(req, res).catch((err: unknown) => bedrockError(res, 500, 'InternalServerException', String(err)));
  });
  return { ...running, requests };
}
