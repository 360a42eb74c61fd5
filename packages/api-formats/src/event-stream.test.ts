import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { BedrockRuntimeClient, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { ApiError } from './errors.js';
import { createSseToEventStream, encodeException, EventStreamToSse, SseToEventStream } from './event-stream.js';
import { sseText, streamEvents } from './test-support/anthropic-fixtures.js';

const EVENTS = streamEvents('claude-sonnet-4-5-20250929');
const SSE = Buffer.from(sseText(EVENTS));

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((part) => Buffer.from(part)));
}

function sseToEventStream(chunks: Buffer[]): Buffer {
  const translator = new SseToEventStream();
  return concat([...chunks.flatMap((chunk) => translator.write(chunk)), ...translator.end()]);
}

function decodeAll(bytes: Buffer) {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const messages = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    messages.push(codec.decode(bytes.subarray(at, at + length)));
    at += length;
  }
  return messages;
}

/** The real AWS SDK's InvokeModelWithResponseStream deserialiser, fed our bytes in the given slices. */
async function readWithAwsSdk(slices: Buffer[]): Promise<{ events: unknown[]; error?: Error }> {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-secret' },
    requestHandler: {
      handle: async () => ({
        response: { statusCode: 200, headers: { 'content-type': 'application/vnd.amazon.eventstream' }, body: Readable.from(slices) },
      }),
    } as never,
  });
  const events: unknown[] = [];
  try {
    const answer = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', body: '{}' }));
    for await (const part of answer.body!) {
      if (part.chunk?.bytes) events.push(JSON.parse(Buffer.from(part.chunk.bytes).toString('utf8')));
    }
  } catch (err) {
    return { events, error: err as Error };
  }
  return { events };
}

function slices(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

test('each SSE event becomes one chunk message with Bedrock\'s three headers and a base64 payload', () => {
  const messages = decodeAll(sseToEventStream([SSE]));
  assert.equal(messages.length, EVENTS.length);
  messages.forEach((message, index) => {
    assert.deepEqual(message.headers, {
      ':event-type': { type: 'string', value: 'chunk' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    });
    const payload = JSON.parse(toUtf8(message.body)) as { bytes: string };
    assert.deepEqual(Object.keys(payload), ['bytes']);
    assert.deepEqual(JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8')), EVENTS[index]);
  });
});

test('the output is identical wherever the SSE input is cut, including inside multi-byte characters', () => {
  const whole = sseToEventStream([SSE]);
  for (let cut = 1; cut < SSE.length; cut++) {
    assert.ok(sseToEventStream([SSE.subarray(0, cut), SSE.subarray(cut)]).equals(whole), `cut at ${cut}`);
  }
  assert.ok(sseToEventStream(slices(SSE, 1)).equals(whole), 'one byte at a time');
});

test('CRLF line endings and comment lines in the SSE input are understood', () => {
  const crlf = Buffer.from(`: keep-alive\r\n\r\n${sseText(EVENTS).replace(/\n/g, '\r\n')}`);
  assert.ok(sseToEventStream([crlf]).equals(sseToEventStream([SSE])));
});

test('an SSE stream cut off inside an event ends with an exception, not half an event', async () => {
  const cut = Buffer.concat([Buffer.from(sseText(EVENTS.slice(0, 2))), Buffer.from('event: content_block_delta\ndata: {"type":"content_bl')]);
  const messages = decodeAll(sseToEventStream([cut]));
  assert.equal(messages.length, 3);
  assert.deepEqual(messages[2]!.headers[':message-type'], { type: 'string', value: 'exception' });
  const { events, error } = await readWithAwsSdk([sseToEventStream([cut])]);
  assert.equal(events.length, 2);
  assert.equal(error?.name, 'InternalServerException');
});

test('a final event missing only its blank line is still delivered', () => {
  const unterminated = Buffer.from(sseText(EVENTS).replace(/\n\n$/, '\n'));
  assert.ok(sseToEventStream([unterminated]).equals(sseToEventStream([SSE])));
});

test('messages come out as the input arrives, not at the end', () => {
  const translator = new SseToEventStream();
  const firstEvent = Buffer.from(sseText(EVENTS.slice(0, 1)));
  assert.equal(translator.write(firstEvent).length, 1);
  assert.equal(translator.write(Buffer.from('event: ping\ndata: {"type":')).length, 0);
  assert.equal(translator.write(Buffer.from('"ping"}\n\n')).length, 1);
});

test('the real AWS SDK deserialiser reads our event stream, delivered in 7-byte slices', async () => {
  const { events, error } = await readWithAwsSdk(slices(sseToEventStream([SSE]), 7));
  assert.equal(error, undefined);
  assert.deepEqual(events, EVENTS);
});

test('an SSE error event becomes a Bedrock exception the AWS SDK raises by name', async () => {
  const withError = Buffer.concat([
    Buffer.from(sseText(EVENTS.slice(0, 3))),
    Buffer.from('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'),
  ]);
  const bytes = sseToEventStream([withError]);
  const last = decodeAll(bytes).at(-1)!;
  assert.deepEqual(last.headers[':message-type'], { type: 'string', value: 'exception' });
  assert.deepEqual(last.headers[':exception-type'], { type: 'string', value: 'serviceUnavailableException' });
  const { events, error } = await readWithAwsSdk([bytes]);
  assert.equal(events.length, 3);
  assert.equal(error?.name, 'ServiceUnavailableException');
  assert.equal(error?.message, 'Overloaded');
});

test('an SSE error of a type this package does not know is sent as an internal server exception', () => {
  const bytes = sseToEventStream([Buffer.from('event: error\ndata: {"type":"error","error":{"type":"billing_error","message":"Add credits"}}\n\n')]);
  assert.deepEqual(decodeAll(bytes)[0]!.headers[':exception-type'], { type: 'string', value: 'internalServerException' });
});

test('encodeException picks a ResponseStream exception the SDK knows', async () => {
  const { error } = await readWithAwsSdk([Buffer.from(encodeException(new ApiError(429, 'rate_limit_error', 'slow down')))]);
  assert.equal(error?.name, 'ThrottlingException');
  const other = decodeAll(Buffer.from(encodeException(new ApiError(403, 'permission_error', 'nope'))))[0]!;
  assert.deepEqual(other.headers[':exception-type'], { type: 'string', value: 'modelStreamErrorException' });
});

test('the Node Transform wrapper streams through pipeline', async () => {
  const out: Buffer[] = [];
  await pipeline(Readable.from(slices(SSE, 13)), createSseToEventStream(), async function* (source) {
    for await (const chunk of source) out.push(chunk as Buffer);
  });
  assert.ok(Buffer.concat(out).equals(sseToEventStream([SSE])));
});

function bedrockStream(events: Array<Record<string, unknown>>): Buffer {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  return Buffer.concat(
    events.map((event, index) =>
      Buffer.from(
        codec.encode({
          headers: {
            ':event-type': { type: 'string', value: 'chunk' },
            ':content-type': { type: 'string', value: 'application/json' },
            ':message-type': { type: 'string', value: 'event' },
          },
          body: fromUtf8(JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'x'.repeat(index) })),
        }),
      ),
    ),
  );
}

function eventStreamToSse(chunks: Buffer[]): string {
  const translator = new EventStreamToSse();
  return concat([...chunks.flatMap((chunk) => translator.write(chunk)), ...translator.end()]).toString('utf8');
}

test('a Bedrock event stream becomes the Anthropic SSE text, wherever it is cut', () => {
  const bytes = bedrockStream(EVENTS);
  const expected = sseText(EVENTS);
  assert.equal(eventStreamToSse([bytes]), expected);
  for (let cut = 1; cut < bytes.length; cut += 3) {
    assert.equal(eventStreamToSse([bytes.subarray(0, cut), bytes.subarray(cut)]), expected, `cut at ${cut}`);
  }
});

test('a Bedrock exception mid-stream becomes an SSE error event with the Anthropic type', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const exception = codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: 'throttlingException' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8('{"message":"Too many tokens"}'),
  });
  const text = eventStreamToSse([bedrockStream(EVENTS.slice(0, 2)), Buffer.from(exception)]);
  assert.equal(text, `${sseText(EVENTS.slice(0, 2))}event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Too many tokens"}}\n\n`);
});

test('a truncated or corrupt event stream ends with an api_error event instead of hanging or throwing', () => {
  const bytes = bedrockStream(EVENTS.slice(0, 2));
  const truncated = eventStreamToSse([bytes.subarray(0, bytes.length - 5)]);
  assert.match(truncated, /event: error\ndata: .*"api_error".*truncated message/);
  const corrupt = Buffer.from(bytes);
  corrupt[corrupt.length - 10] = corrupt[corrupt.length - 10]! ^ 0xff;
  assert.match(eventStreamToSse([corrupt]), /event: error\ndata: .*checksum/);
  assert.match(eventStreamToSse([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0])]), /impossible length/);
});
