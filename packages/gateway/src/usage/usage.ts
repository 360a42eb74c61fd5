// Token usage of one answer and its cost.
import { priceFor } from './prices.js';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });

export const totalTokens = (u: Usage) => u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;

/** Folds an Anthropic `usage` object into ours; fields the object lacks keep their value. */
export function mergeAnthropicUsage(into: Usage, usage: Record<string, unknown> | undefined): void {
  if (!usage) return;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  into.inputTokens = n(usage.input_tokens) ?? into.inputTokens;
  into.outputTokens = n(usage.output_tokens) ?? into.outputTokens;
  into.cacheReadTokens = n(usage.cache_read_input_tokens) ?? into.cacheReadTokens;
  into.cacheWriteTokens = n(usage.cache_creation_input_tokens) ?? into.cacheWriteTokens;
}

export function costUsd(model: string, u: Usage): number {
  const { price } = priceFor(model);
  return (
    (u.inputTokens * price.input + u.outputTokens * price.output + u.cacheReadTokens * price.cacheRead + u.cacheWriteTokens * price.cacheWrite) /
    1_000_000
  );
}

/**
 * An upper bound of a request's tokens before it is sent: every body byte counted as a token (a
 * token is at least one byte of text; an image's base64 is far more bytes than its tokens) plus
 * max_tokens. Reserved on budgets and token limits, so concurrent requests cannot overshoot them.
 */
export function tokensUpperBound(body: Buffer): number {
  return body.length + maxTokensOf(body);
}

/** The cost of tokensUpperBound's tokens: input at the dearest input rate, max_tokens at the output rate. */
export function costUpperBound(model: string, body: Buffer): number {
  const { price } = priceFor(model);
  return (body.length * Math.max(price.input, price.cacheWrite) + maxTokensOf(body) * price.output) / 1_000_000;
}

const DEFAULT_MAX_TOKENS = 64_000;

function maxTokensOf(body: Buffer): number {
  try {
    const value = (JSON.parse(body.toString('utf8')) as { max_tokens?: unknown }).max_tokens;
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_TOKENS;
  } catch {
    return DEFAULT_MAX_TOKENS;
  }
}
