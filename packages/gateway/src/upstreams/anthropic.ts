// The Anthropic API (or any Messages-compatible server, such as the mock) as an upstream, with the gateway's own key.
import type { SecretSource } from './secret.js';
import { pools, type Upstream } from './upstream.js';

export function anthropicUpstream(
  name: string,
  url: string,
  key: SecretSource,
  opts: { kind?: 'anthropic' | 'mock'; timeoutMs: number; extraClose?: () => Promise<void> },
): Upstream {
  const baseUrl = url.replace(/\/$/, '');
  const pool = pools();
  return {
    name,
    kind: opts.kind ?? 'anthropic',
    timeoutMs: opts.timeoutMs,
    callerCredentials: false,
    deployment: (model) => ({ kind: opts.kind ?? 'anthropic', baseUrl, model }),
    async authorize(request) {
      request.headers['x-api-key'] = await key.get();
      return request;
    },
    dispatcher: pool.get,
    credentialRejected: () => key.invalidate(),
    async close() {
      await pool.close();
      await opts.extraClose?.();
    },
  };
}
