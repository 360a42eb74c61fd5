// A stand-in for the GCE/Cloud Run metadata server (GCE_METADATA_HOST) with its Metadata-Flavor contract.
//
// Contract (Google's metadata server docs): every request must carry `Metadata-Flavor: Google`
// and must not carry `X-Forwarded-For`, otherwise 403; every answer carries
// `Metadata-Flavor: Google` (gcp-metadata refuses answers without it).
import { listen, type RunningServer } from './http.js';
import type { IdTokenIssuer } from './id-token-issuer.js';
import type { TokenLedger } from './token-ledger.js';

const FLAVOR = { 'Metadata-Flavor': 'Google' };

export interface MetadataServerOptions {
  ledger: TokenLedger;
  idTokens: IdTokenIssuer;
  /** The instance's default service account. */
  email: string;
  projectId: string;
  accessTokenLifetime?: number;
}

export async function startMetadataServer(opts: MetadataServerOptions): Promise<RunningServer> {
  const lifetime = opts.accessTokenLifetime ?? 3599;
  return listen(async (req, res) => {
    const text = (status: number, body: string, type = 'application/text') => {
      res.writeHead(status, { ...FLAVOR, 'content-type': type });
      res.end(body);
    };
    if (req.headers['metadata-flavor'] !== 'Google' || req.headers['x-forwarded-for'] !== undefined) {
      // The real server answers an HTML 403 page without the flavor header.
      res.writeHead(403, { 'content-type': 'text/html; charset=UTF-8' });
      res.end('<!DOCTYPE html><title>Error 403 (Forbidden)</title><p>Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.');
      return;
    }
    const url = new URL(req.url!, 'http://metadata.google.internal');
    const account = '/computeMetadata/v1/instance/service-accounts/default';
    switch (url.pathname) {
      case '/computeMetadata/v1/instance':
      case '/computeMetadata/v1/instance/':
        return text(200, 'attributes/\nhostname\nid\nservice-accounts/\nzone\n');
      case '/computeMetadata/v1/project/project-id':
        return text(200, opts.projectId);
      case `${account}/email`:
        return text(200, opts.email);
      case `${account}/token`: {
        const scopes = (url.searchParams.get('scopes') ?? 'https://www.googleapis.com/auth/cloud-platform').split(',');
        const body = { access_token: opts.ledger.issue(opts.email, scopes, lifetime), expires_in: lifetime, token_type: 'Bearer' };
        return text(200, JSON.stringify(body), 'application/json');
      }
      case `${account}/identity`: {
        const audience = url.searchParams.get('audience');
        if (!audience) return text(400, 'non-empty audience parameter required');
        return text(200, await opts.idTokens.sign(opts.email, audience));
      }
      default:
        return text(404, 'Not Found', 'text/html; charset=UTF-8');
    }
  });
}
