// The body in the client's format becomes the canonical (Anthropic Messages) request.
import { parseInbound } from '@claude-key/api-formats';
import { before, type Stage } from '../pipeline.js';

export const parseStage = (): Stage =>
  before('parse', (ctx) => {
    ctx.canonical = parseInbound(ctx.route, ctx.req.headers, ctx.body!);
    ctx.stream = ctx.canonical.stream;
  });
