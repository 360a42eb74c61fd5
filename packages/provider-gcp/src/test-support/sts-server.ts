// A stand-in for Google's Security Token Service (`POST sts.googleapis.com/v1/token`): the RFC 8693
// token exchange workload identity federation uses, with Google's OAuth-style error bodies.
import { listen, sendJson, type RunningServer } from './http.js';
import type { TokenLedger } from './token-ledger.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SUBJECT_TOKEN_TYPES = new Set(['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token']);

export interface FederatedIdentity {
  /** The external IdP's token (a CI job's OIDC token, say) that the pool trusts. */
  subjectToken: string;
  /** The workload identity pool provider, `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X`. */
  audience: string;
  /** The federated principal Google derives, e.g. `principal://iam.googleapis.com/.../subject/repo:org/app`. */
  principal: string;
}

export async function startStsServer(ledger: TokenLedger, identities: FederatedIdentity[]): Promise<RunningServer> {
  return listen((req, res, body) => {
    if (req.method !== 'POST' || new URL(req.url!, 'http://x').pathname !== '/v1/token') {
      return sendJson(res, 404, { error: 'not_found', error_description: 'Not Found' });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== TOKEN_EXCHANGE) {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${form.get('grant_type') ?? ''}` });
    }
    if (form.get('requested_token_type') !== ACCESS_TOKEN_TYPE || !SUBJECT_TOKEN_TYPES.has(form.get('subject_token_type') ?? '')) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'Invalid value for "requested_token_type" or "subject_token_type".' });
    }
    const audience = form.get('audience') ?? '';
    const identity = identities.find((i) => i.audience === audience);
    if (!identity) return sendJson(res, 400, { error: 'invalid_target', error_description: 'The target service indicated by the "audience" parameters is invalid.' });
    if (identity.subjectToken !== form.get('subject_token')) {
      return sendJson(res, 400, { error: 'invalid_grant', error_description: 'The given token could not be verified against the provider\'s keys.' });
    }
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    return sendJson(res, 200, {
      access_token: ledger.issue(identity.principal, scopes, 3599),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: 3599,
    });
  });
}
