// The bundled price table (USD per million tokens), dated so reports can say which prices they used.
//
// Source: Anthropic's public pricing page. Cache writes are the 5-minute rate (1.25x input),
// cache reads 0.1x input. An unknown model is priced as the most expensive known one, so a
// budget can never be bypassed by a model name the table does not list.

export const PRICES_AS_OF = '2026-11-01';

export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

const price = (input: number, output: number): ModelPrice => ({ input, output, cacheWrite: input * 1.25, cacheRead: input * 0.1 });

/** Longest matching prefix wins. */
const TABLE: [prefix: string, price: ModelPrice][] = [
  ['claude-opus-4-5', price(5, 25)],
  ['claude-opus-4-1', price(15, 75)],
  ['claude-opus-4', price(15, 75)],
  ['claude-3-opus', price(15, 75)],
  ['claude-sonnet-4-5', price(3, 15)],
  ['claude-sonnet-4', price(3, 15)],
  ['claude-3-7-sonnet', price(3, 15)],
  ['claude-3-5-sonnet', price(3, 15)],
  ['claude-haiku-4-5', price(1, 5)],
  ['claude-3-5-haiku', price(0.8, 4)],
  ['claude-3-haiku', price(0.25, 1.25)],
].sort((a, b) => (b[0] as string).length - (a[0] as string).length) as [string, ModelPrice][];

export const FALLBACK_PRICE: ModelPrice = price(15, 75);

export function priceFor(model: string): { price: ModelPrice; known: boolean } {
  for (const [prefix, p] of TABLE) if (model.startsWith(prefix)) return { price: p, known: true };
  return { price: FALLBACK_PRICE, known: false };
}
