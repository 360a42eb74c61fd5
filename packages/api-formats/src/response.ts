// Turns a successful upstream answer into what the client's format expects (stream framing, count-tokens shape).

import type { Transform } from 'node:stream';
import { createEventStreamToSse, createSseToEventStream, EVENT_STREAM_CONTENT_TYPE, SSE_CONTENT_TYPE } from './event-stream.js';
import type { CanonicalRequest, UpstreamKind } from './types.js';

export type StreamTranslation = 'none' | 'sse-to-eventstream' | 'eventstream-to-sse';

export interface ResponsePlan {
  translation: StreamTranslation;
  /** The content-type to send the client. */
  contentType: string;
}

/** How the upstream's success body must change on its way to the client. */
export function planResponse(request: CanonicalRequest, upstream: UpstreamKind): ResponsePlan {
  if (!request.stream) return { translation: 'none', contentType: 'application/json' };
  const upstreamFramesEvents = upstream === 'bedrock';
  const clientWantsEvents = request.format === 'bedrock';
  if (upstreamFramesEvents === clientWantsEvents) {
    return { translation: 'none', contentType: clientWantsEvents ? EVENT_STREAM_CONTENT_TYPE : SSE_CONTENT_TYPE };
  }
  return clientWantsEvents
    ? { translation: 'sse-to-eventstream', contentType: EVENT_STREAM_CONTENT_TYPE }
    : { translation: 'eventstream-to-sse', contentType: SSE_CONTENT_TYPE };
}

/** A Transform to pipe the upstream body through, or undefined when it passes as is. */
export function createStreamTranslator(plan: ResponsePlan): Transform | undefined {
  if (plan.translation === 'sse-to-eventstream') return createSseToEventStream();
  if (plan.translation === 'eventstream-to-sse') return createEventStreamToSse();
  return undefined;
}

/**
 * A non-streaming success body for the client. Messages are identical in every format; only
 * token counts differ: Bedrock's CountTokens says `{"inputTokens"}`, the others `{"input_tokens"}`.
 */
export function translateJsonBody(request: CanonicalRequest, upstream: UpstreamKind, body: Buffer): Buffer {
  if (!request.countTokens) return body;
  const fromBedrock = upstream === 'bedrock';
  const toBedrock = request.format === 'bedrock';
  if (fromBedrock === toBedrock) return body;
  const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(
    JSON.stringify(toBedrock ? { inputTokens: parsed['input_tokens'] } : { input_tokens: parsed['inputTokens'] }),
  );
}
