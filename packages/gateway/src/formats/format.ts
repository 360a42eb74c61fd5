// An inbound API format: which paths it serves, how to read model and stream flag from a request,
// and how to shape an error. Anthropic Messages is one; Bedrock and Vertex plug in as others.
import type { RequestContext } from '../context.js';
import type { GatewayError } from '../errors.js';

export type Operation = 'messages' | 'count_tokens';

export interface RouteMatch {
  operation: Operation;
  /** A model named in the path (Bedrock, Vertex); Anthropic names it in the body. */
  model?: string;
}

export interface InboundFormat {
  readonly name: string;
  match(method: string, pathname: string): RouteMatch | undefined;
  /** Reads model and stream flag from ctx.json (and the route) into ctx; throws on invalid input. */
  read(ctx: RequestContext, route: RouteMatch): void;
  /** The path to request from an Anthropic-shaped upstream. */
  upstreamPath(ctx: RequestContext): string;
  errorBody(err: GatewayError): string;
}
