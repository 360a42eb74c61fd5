// Usage read from a streamed answer however the network splits it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseUsageTap } from './tap.js';

const frame = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const stream = Buffer.from(
  frame('message_start', { type: 'message_start', message: { id: 'm', usage: { input_tokens: 1234, output_tokens: 1, cache_read_input_tokens: 500, cache_creation_input_tokens: 70 } } }) +
    frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo ✓ 日本 "usage" in text' } }) +
    frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 321 } }) +
    frame('message_stop', { type: 'message_stop' }),
);

describe('SSE usage tap', () => {
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    it(`reads input, cache and final output tokens from chunks of ${size} bytes`, () => {
      const tap = new SseUsageTap();
      for (let i = 0; i < stream.length; i += size) tap.feed(stream.subarray(i, i + size));
      assert.deepEqual(tap.usage, { inputTokens: 1234, outputTokens: 321, cacheReadTokens: 500, cacheWriteTokens: 70 });
    });
  }
});
