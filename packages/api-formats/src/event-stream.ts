// Anthropic SSE <-> AWS event stream (what Bedrock's InvokeModelWithResponseStream answers with).
//
// Each Anthropic stream event becomes one event-stream message with headers
// `:event-type: chunk`, `:content-type: application/json`, `:message-type: event` and payload
// `{"bytes":"<base64 of the event JSON>"}`; an SSE `error` event becomes an `exception` message
// whose `:exception-type` is one of the ResponseStream exceptions the Bedrock Runtime model
// declares. Framing is @smithy/eventstream-codec (prelude, header encoding, both CRCs); SSE
// parsing is eventsource-parser. Both are incremental: nothing waits for the end of the answer.

import { Transform } from 'node:stream';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { ApiError, bedrockErrorName, isAnthropicErrorType, typeFromBedrock, type AnthropicErrorType } from './errors.js';

type Message = Parameters<EventStreamCodec['encode']>[0];
type MessageHeaders = Message['headers'];

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';
export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** The exceptions the Bedrock ResponseStream union declares; any other type is sent as a model stream error. */
const STREAM_EXCEPTIONS = new Set([
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'modelTimeoutException',
  'serviceUnavailableException',
]);

function newCodec(): EventStreamCodec {
  return new EventStreamCodec(toUtf8, fromUtf8);
}

function stringHeader(value: string): { type: 'string'; value: string } {
  return { type: 'string', value };
}

/** The camel-cased `:exception-type` Bedrock uses mid-stream for an Anthropic error type. */
export function streamExceptionType(type: AnthropicErrorType): string {
  const name = bedrockErrorName(type);
  const camel = name.charAt(0).toLowerCase() + name.slice(1);
  return STREAM_EXCEPTIONS.has(camel) ? camel : 'modelStreamErrorException';
}

/** One `chunk` event message carrying one Anthropic stream event (its JSON text, as bytes). */
export function encodeChunk(codec: EventStreamCodec, eventJson: Uint8Array): Uint8Array {
  const headers: MessageHeaders = {
    ':event-type': stringHeader('chunk'),
    ':content-type': stringHeader('application/json'),
    ':message-type': stringHeader('event'),
  };
  const payload = `{"bytes":"${Buffer.from(eventJson.buffer, eventJson.byteOffset, eventJson.byteLength).toString('base64')}"}`;
  return codec.encode({ headers, body: fromUtf8(payload) });
}

/** One `exception` message, for an error after the stream has started. */
export function encodeException(err: ApiError, codec: EventStreamCodec = newCodec()): Uint8Array {
  const headers: MessageHeaders = {
    ':exception-type': stringHeader(streamExceptionType(err.type)),
    ':content-type': stringHeader('application/json'),
    ':message-type': stringHeader('exception'),
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify({ message: err.message })) });
}

/** An SSE `error` event in Anthropic's shape, for an error after the stream has started. */
export function encodeSseError(err: ApiError): Uint8Array {
  return fromUtf8(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: err.type, message: err.message } })}\n\n`);
}

function sseErrorFrom(data: string): ApiError {
  try {
    const parsed = JSON.parse(data) as { error?: { type?: string; message?: string } };
    const type = isAnthropicErrorType(parsed.error?.type) ? parsed.error.type : 'api_error';
    return new ApiError(500, type, parsed.error?.message ?? 'upstream stream error');
  } catch {
    return new ApiError(500, 'api_error', 'upstream stream error');
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Incremental SSE -> event stream: feed any slices of the SSE bytes, get whole messages back.
 * An event left unterminated when the input ends is flushed if its data is whole JSON; otherwise
 * the upstream was cut off mid-event, and it becomes an exception rather than half a document.
 */
export class SseToEventStream {
  private readonly codec = newCodec();
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private out: Uint8Array[] = [];
  private ending = false;

  constructor() {
    this.parser = createParser({ onEvent: (event) => this.onEvent(event) });
  }

  private onEvent(event: EventSourceMessage): void {
    if (this.ending && !isJson(event.data)) {
      this.out.push(encodeException(new ApiError(502, 'api_error', 'the upstream stream ended in the middle of an event'), this.codec));
    } else if (event.event === 'error') {
      this.out.push(encodeException(sseErrorFrom(event.data), this.codec));
    } else {
      this.out.push(encodeChunk(this.codec, fromUtf8(event.data)));
    }
  }

  write(chunk: Uint8Array): Uint8Array[] {
    this.parser.feed(this.decoder.decode(chunk, { stream: true }));
    return this.take();
  }

  end(): Uint8Array[] {
    const rest = this.decoder.decode();
    this.ending = true;
    this.parser.feed(`${rest}\n\n`);
    return this.take();
  }

  private take(): Uint8Array[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

function header(message: Message, name: string): string | undefined {
  const value = message.headers[name];
  return value && value.type === 'string' ? value.value : undefined;
}

/** Messages are length-prefixed; anything outside these bounds is a corrupt or hostile stream. */
const MIN_MESSAGE_BYTES = 16;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Incremental event stream -> SSE, for a Bedrock upstream serving an Anthropic or Vertex client.
 * The codec decodes whole messages only, so bytes are held until a message's length (its first
 * four bytes) has arrived. A corrupt or truncated stream ends with an SSE `error` event.
 */
export class EventStreamToSse {
  private readonly codec = newCodec();
  private pending: Buffer = Buffer.alloc(0);
  private failed = false;

  write(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) return [];
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const out: Uint8Array[] = [];
    while (this.pending.length >= 4) {
      const total = this.pending.readUInt32BE(0);
      if (total < MIN_MESSAGE_BYTES || total > MAX_MESSAGE_BYTES) return [...out, this.fail('a message with an impossible length')];
      if (this.pending.length < total) break;
      const frame = this.pending.subarray(0, total);
      this.pending = this.pending.subarray(total);
      let message: Message;
      try {
        message = this.codec.decode(frame);
      } catch {
        return [...out, this.fail('a message that failed its checksum')];
      }
      out.push(...this.translate(message));
    }
    return out;
  }

  end(): Uint8Array[] {
    if (this.failed || this.pending.length === 0) return [];
    return [this.fail('a truncated message')];
  }

  private fail(what: string): Uint8Array {
    this.failed = true;
    this.pending = Buffer.alloc(0);
    return encodeSseError(new ApiError(502, 'api_error', `the upstream event stream carried ${what}`));
  }

  private translate(message: Message): Uint8Array[] {
    const messageType = header(message, ':message-type');
    if (messageType === 'exception' || messageType === 'error') {
      const code = header(message, ':exception-type') ?? header(message, ':error-code') ?? 'internalServerException';
      let text = header(message, ':error-message') ?? 'upstream stream error';
      try {
        const body = JSON.parse(toUtf8(message.body)) as { message?: unknown };
        if (typeof body.message === 'string') text = body.message;
      } catch {
        // An exception without a JSON body keeps the header message.
      }
      return [encodeSseError(new ApiError(500, typeFromBedrock(code) ?? 'api_error', text))];
    }
    if (header(message, ':event-type') !== 'chunk') return [];
    const payload = JSON.parse(toUtf8(message.body)) as { bytes?: unknown };
    if (typeof payload.bytes !== 'string') return [];
    const data = Buffer.from(payload.bytes, 'base64').toString('utf8');
    const name = (JSON.parse(data) as { type?: unknown }).type;
    if (typeof name !== 'string') return [];
    // SSE data may not hold a raw newline; a multi-line payload becomes several data lines.
    return [fromUtf8(`event: ${name}\ndata: ${data.split('\n').join('\ndata: ')}\n\n`)];
  }
}

interface Incremental {
  write(chunk: Uint8Array): Uint8Array[];
  end(): Uint8Array[];
}

function toTransform(translator: Incremental): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        for (const piece of translator.write(chunk)) this.push(piece);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      try {
        for (const piece of translator.end()) this.push(piece);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** A Node Transform: Anthropic SSE bytes in, AWS event-stream bytes out. */
export function createSseToEventStream(): Transform {
  return toTransform(new SseToEventStream());
}

/** A Node Transform: AWS event-stream bytes in, Anthropic SSE bytes out. */
export function createEventStreamToSse(): Transform {
  return toTransform(new EventStreamToSse());
}
