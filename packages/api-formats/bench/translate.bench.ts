// Per-request cost of each translation stage, on a Claude Code-sized body and a long answer stream.
// Run: node --conditions=source --import tsx packages/api-formats/bench/translate.bench.ts

import { Sha256 } from '@aws-crypto/sha256-js';
import { Hash } from '@smithy/hash-node';
import { signBedrockRequest } from '../src/bedrock-sign.js';
import { EventStreamToSse, SseToEventStream } from '../src/event-stream.js';
import { matchInbound, parseInbound } from '../src/inbound.js';
import { buildUpstreamRequest } from '../src/outbound.js';

function claudeCodeBody(targetBytes: number): Record<string, unknown> {
  const messages: unknown[] = [];
  const body = {
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 32000,
    stream: true,
    system: [{ type: 'text', text: 'You are Claude Code. '.repeat(200), cache_control: { type: 'ephemeral' } }],
    tools: Array.from({ length: 15 }, (_, i) => ({ name: `Tool${i}`, description: 'does things '.repeat(40), input_schema: { type: 'object', properties: { a: { type: 'string' } } } })),
    metadata: { user_id: 'user_abc' },
    thinking: { type: 'enabled', budget_tokens: 31999 },
    context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
    messages,
  };
  while (JSON.stringify(body).length < targetBytes) messages.push({ role: 'user', content: [{ type: 'text', text: 'Please refactor the "parser" module; it has \\ escapes and ünïcode. '.repeat(8) }] });
  return body;
}

function measure(name: string, iterations: number, run: () => unknown): void {
  for (let i = 0; i < Math.min(500, iterations); i++) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  const micros = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${name.padEnd(58)} ${micros.toFixed(1).padStart(8)} µs/op`);
}

async function measureAsync(name: string, iterations: number, run: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50; i++) await run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await run();
  const micros = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${name.padEnd(58)} ${micros.toFixed(1).padStart(8)} µs/op`);
}

const anthropicBody = Buffer.from(JSON.stringify(claudeCodeBody(85_000)));
const { model: _model, stream: _stream, ...rest } = JSON.parse(anthropicBody.toString()) as Record<string, unknown>;
const bedrockBody = Buffer.from(JSON.stringify({ ...rest, anthropic_version: 'bedrock-2023-05-31', anthropic_beta: ['claude-code-20250219'] }));
console.log(`body: ${anthropicBody.length} bytes (Anthropic), ${bedrockBody.length} bytes (Bedrock)`);

const anthropicRoute = matchInbound('POST', '/v1/messages?beta=true');
const bedrockRoute = matchInbound('POST', '/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream');
if (anthropicRoute?.kind !== 'model' || bedrockRoute?.kind !== 'model') throw new Error('routes');
const headers = { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14' };

measure('JSON.parse alone (reference)', 2000, () => JSON.parse(anthropicBody.toString()));
measure('parse inbound Anthropic (no edit)', 2000, () => parseInbound(anthropicRoute, headers, anthropicBody));
measure('parse inbound Bedrock (3 edits)', 2000, () => parseInbound(bedrockRoute, headers, bedrockBody));
const canonical = parseInbound(anthropicRoute, headers, anthropicBody);
measure('build outbound Anthropic, same model (no edit)', 2000, () => buildUpstreamRequest(canonical, { kind: 'anthropic', baseUrl: 'https://x', model: 'claude-sonnet-4-5-20250929' }));
measure('build outbound Anthropic, other model (1 edit)', 2000, () => buildUpstreamRequest(canonical, { kind: 'anthropic', baseUrl: 'https://x', model: 'claude-opus-4-1' }));
measure('build outbound Bedrock (3 edits)', 2000, () => buildUpstreamRequest(canonical, { kind: 'bedrock', region: 'us-east-1', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }));
measure('build outbound Vertex (2 edits)', 2000, () => buildUpstreamRequest(canonical, { kind: 'vertex', region: 'us-east5', project: 'p', model: 'claude-sonnet-4-5@20250929' }));
const bedrockUpstream = buildUpstreamRequest(canonical, { kind: 'bedrock', region: 'us-east-1', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' });
measure('sha256 of the body, @aws-crypto/sha256-js (pure JS)', 500, () => {
  const hash = new Sha256();
  hash.update(bedrockUpstream.body);
  return hash.digest();
});
measure('sha256 of the body, @smithy/hash-node (node:crypto)', 500, () => {
  const hash = new Hash('sha256');
  hash.update(bedrockUpstream.body);
  return hash.digest();
});
await measureAsync('SigV4 sign Bedrock request', 500, () => signBedrockRequest(bedrockUpstream, { region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } }));

// A long answer: 1000 text deltas of ~40 bytes each, as the upstream sends them.
const events: string[] = [`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg', type: 'message', role: 'assistant', content: [], model: 'claude', usage: { input_tokens: 10, output_tokens: 1 } } })}\n\n`];
for (let i = 0; i < 1000; i++) events.push(`event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `word ${i} of the answer, ünïcode ` } })}\n\n`);
events.push('event: message_stop\ndata: {"type":"message_stop"}\n\n');
const sse = Buffer.from(events.join(''));
const chunks: Buffer[] = [];
for (let at = 0; at < sse.length; at += 1400) chunks.push(sse.subarray(at, at + 1400));
let eventStream = Buffer.alloc(0);
measure(`SSE -> event stream, ${events.length} events in 1400-byte chunks (per answer)`, 200, () => {
  const translator = new SseToEventStream();
  const out = [...chunks.flatMap((chunk) => translator.write(chunk)), ...translator.end()];
  eventStream = Buffer.concat(out.map((part) => Buffer.from(part)));
});
const esChunks: Buffer[] = [];
for (let at = 0; at < eventStream.length; at += 1400) esChunks.push(eventStream.subarray(at, at + 1400));
measure(`event stream -> SSE, ${events.length} events in 1400-byte chunks (per answer)`, 200, () => {
  const translator = new EventStreamToSse();
  return [...esChunks.flatMap((chunk) => translator.write(chunk)), ...translator.end()];
});
