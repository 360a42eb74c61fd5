// Before the body: an unauthenticated caller is refused on its headers alone, so it costs no
// memory and no time reading a body it may declare at any size.
import type { IncomingMessage } from 'node:http';
import type { ApiFormat } from '@claude-key/api-formats';
import type { Authenticator } from '../auth/authenticate.js';
import type { GatewayConfig } from '../config.js';
import { describeRefusal } from '../auth/refusal.js';
import { before, type Stage } from '../pipeline.js';

export interface AuthenticateDeps {
  config: Pick<GatewayConfig, 'auth'>;
  authenticator: Pick<Authenticator, 'authenticate'>;
}

export const authenticateStage = (deps: AuthenticateDeps): Stage =>
  before('authenticate', async (ctx) => {
    const names = credentialHeaders(deps.config, ctx.req, ctx.format);
    try {
      ctx.principal = await deps.authenticator.authenticate(ctx.req.headersDistinct, names);
    } catch (err) {
      // The record then says what was presented (claimed, unverified) and why it was refused.
      ctx.refusal = describeRefusal(ctx.req.headersDistinct, names, err);
      throw err;
    }
  });

/** Vertex callers may carry their own Google token in Authorization: then the gateway key is elsewhere. */
export function credentialHeaders(config: Pick<GatewayConfig, 'auth'>, req: IncomingMessage, format: ApiFormat) {
  if (format === 'vertex') return config.auth.vertexHeaders ?? config.auth.headers;
  // An AWS SDK signs with its own (placeholder) keys; that SigV4 Authorization is not a gateway
  // credential, so the caller's token is looked for in the other configured headers.
  if (format === 'bedrock' && /^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization ?? ''))) {
    const names = config.auth.headers.filter((name) => name !== 'authorization');
    return names.length ? names : config.auth.headers;
  }
  return config.auth.headers;
}
