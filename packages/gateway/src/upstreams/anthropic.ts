// The Anthropic API (or any Messages-compatible server) as an upstream, authenticated with the gateway's own key.
import type { SecretSource } from './secret.js';
import { pool, type OutboundRequest, type Upstream } from './upstream.js';

export function anthropicUpstream(name: string, url: string, key: SecretSource, kind = 'anthropic', extraClose?: () => Promise<void>): Upstream {
  const origin = new URL(url).origin;
  const basePath = new URL(url).pathname.replace(/\/$/, '');
  const dispatcher = pool(origin);
  return {
    name,
    kind,
    origin,
    dispatcher,
    async prepare(request: OutboundRequest) {
      request.headers['x-api-key'] = await key.get();
      request.path = basePath + request.path;
      return request;
    },
    credentialRejected: () => key.invalidate(),
    async close() {
      await dispatcher.close();
      await extraClose?.();
    },
  };
}
