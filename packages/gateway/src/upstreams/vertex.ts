// Google Vertex AI as an upstream: the gateway's own Google token, or the caller's bearer passed through.
import { authorizeVertexRequest, callerTokenSource, googleTokenSource, type VertexTokenSource } from '@claude-key/api-formats';
import { pools, type Upstream } from './upstream.js';

export function vertexUpstream(
  name: string,
  opts: { project: string; region: string; endpoint?: string; credentials: 'gateway' | 'passthrough'; keyFile?: string; tokenUrl?: string; timeoutMs: number; tokenSource?: VertexTokenSource },
): Upstream {
  const passthrough = opts.credentials === 'passthrough';
  // google-auth-library caches the access token and refreshes it before it expires.
  const own = passthrough ? undefined : (opts.tokenSource ??
      googleTokenSource({
        ...(opts.keyFile ? { keyFilename: opts.keyFile } : {}),
        ...(opts.tokenUrl ? { clientOptions: { endpoints: { oauth2TokenUrl: opts.tokenUrl } } } : {}),
      }));
  const pool = pools();
  const baseUrl = opts.endpoint?.replace(/\/$/, '');
  return {
    name,
    kind: 'vertex',
    timeoutMs: opts.timeoutMs,
    callerCredentials: passthrough,
    deployment: (model) => ({ kind: 'vertex', model, region: opts.region, project: opts.project, ...(baseUrl ? { baseUrl } : {}) }),
    authorize: (request, callerHeaders) => authorizeVertexRequest(request, own ?? callerTokenSource(callerHeaders)),
    dispatcher: pool.get,
    credentialRejected() {},
    close: () => pool.close(),
  };
}
