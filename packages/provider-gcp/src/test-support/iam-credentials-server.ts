// A stand-in for the IAM Service Account Credentials API (impersonation):
// `POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken` and `:generateIdToken`.
import { bearerOf, listen, sendGoogleApiError, sendJson, sendServiceDisabled, type RunningServer } from './http.js';
import type { IdTokenIssuer } from './id-token-issuer.js';
import type { TokenLedger } from './token-ledger.js';

export interface ImpersonationTarget {
  email: string;
  /** Principals holding roles/iam.serviceAccountTokenCreator on this account. */
  tokenCreators: string[];
}

export interface IamCredentialsState {
  /** Set to a project number to answer every call as if the API were disabled there. */
  disabledIn?: string;
}

export async function startIamCredentialsServer(
  ledger: TokenLedger,
  idTokens: IdTokenIssuer,
  targets: ImpersonationTarget[],
  state: IamCredentialsState = {},
): Promise<RunningServer> {
  return listen(async (req, res, body) => {
    const match = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):(generateAccessToken|generateIdToken)$/.exec(new URL(req.url!, 'http://x').pathname);
    if (req.method !== 'POST' || !match) return sendGoogleApiError(res, 404, 'NOT_FOUND', 'Requested entity was not found.');
    const grant = ledger.lookup(bearerOf(req));
    if (!grant) return sendGoogleApiError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    if (state.disabledIn) return sendServiceDisabled(res, 'iamcredentials.googleapis.com', 'IAM Service Account Credentials API', state.disabledIn);
    const email = decodeURIComponent(match[1]!);
    const method = match[2]!;
    const target = targets.find((t) => t.email === email);
    if (!target?.tokenCreators.includes(grant.principal)) {
      const permission = method === 'generateAccessToken' ? 'iam.serviceAccounts.getAccessToken' : 'iam.serviceAccounts.getOpenIdToken';
      return sendGoogleApiError(res, 403, 'PERMISSION_DENIED', `Permission '${permission}' denied on resource (or it may not exist).`);
    }
    const request = JSON.parse(body || '{}') as { scope?: string[]; lifetime?: string; audience?: string };
    if (method === 'generateIdToken') {
      if (!request.audience) return sendGoogleApiError(res, 400, 'INVALID_ARGUMENT', 'Invalid value for "audience": must not be empty');
      return sendJson(res, 200, { token: await idTokens.sign(email, request.audience) });
    }
    if (!request.scope?.length) return sendGoogleApiError(res, 400, 'INVALID_ARGUMENT', 'Scope required.');
    const lifetime = Number.parseInt(request.lifetime ?? '3600s', 10);
    const accessToken = ledger.issue(email, request.scope, lifetime);
    // expireTime is an RFC 3339 timestamp without fractional seconds, like Google's.
    const expireTime = new Date(ledger.lookup(accessToken)!.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return sendJson(res, 200, { accessToken, expireTime });
  });
}
