// Anthropic Messages as an inbound format: POST /v1/messages and /v1/messages/count_tokens.
import { anthropicErrorBody, invalidRequest } from '../errors.js';
import type { InboundFormat } from './format.js';

export const anthropicFormat: InboundFormat = {
  name: 'anthropic',
  match(method, pathname) {
    if (method !== 'POST') return undefined;
    if (pathname === '/v1/messages') return { operation: 'messages' };
    if (pathname === '/v1/messages/count_tokens') return { operation: 'count_tokens' };
    return undefined;
  },
  read(ctx) {
    const model = ctx.json!.model;
    if (typeof model !== 'string' || !model) throw invalidRequest('model: Field required');
    ctx.model = model;
    ctx.stream = ctx.operation === 'messages' && ctx.json!.stream === true;
  },
  // Path and query unchanged: Claude Code sends ?beta=true and the API expects it.
  upstreamPath: (ctx) => ctx.req.url!,
  errorBody: (err) => anthropicErrorBody(err.type, err.message),
};
