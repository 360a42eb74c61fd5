// A stand-in for Secret Manager's REST `GET /v1/{name=projects/*/secrets/*/versions/*}:access`.
// Checks the caller's bearer against the ledger and answers with Google's JSON shapes and errors.
import { crc32c } from '@aws-crypto/crc32c';
import { bearerOf, listen, sendGoogleApiError, sendJson, sendServiceDisabled, type RunningServer } from './http.js';
import type { TokenLedger } from './token-ledger.js';


export interface FakeSecret {
  /** `projects/P/secrets/S`. */
  name: string;
  /** Version payloads, version 1 first. */
  versions: string[];
  /** Principals (service-account or user emails) granted roles/secretmanager.secretAccessor. */
  accessors: string[];
  /** Test hook: send a dataCrc32c that does not match the data (a corrupted answer). */
  corruptChecksum?: boolean;
}

export interface SecretManagerState {
  /** Set to a project number to answer every call as if the API were disabled in that project. */
  disabledIn?: string;
}

export async function startSecretManagerServer(ledger: TokenLedger, secrets: FakeSecret[], state: SecretManagerState = {}): Promise<RunningServer> {
  return listen((req, res) => {
    const match = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/.exec(new URL(req.url!, 'http://x').pathname);
    if (req.method !== 'GET' || !match) return sendGoogleApiError(res, 404, 'NOT_FOUND', 'Requested entity was not found.');
    const grant = ledger.lookup(bearerOf(req));
    if (!grant) {
      return sendGoogleApiError(res, 401, 'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    // The API check comes after authentication and before any resource is looked at.
    if (state.disabledIn) return sendServiceDisabled(res, 'secretmanager.googleapis.com', 'Secret Manager API', state.disabledIn);
    const [, secretName, versionId] = match as unknown as [string, string, string];
    const secret = secrets.find((s) => s.name === secretName);
    const resource = `${secretName}/versions/${versionId}`;
    // Like Google: without access, a missing secret looks the same as a forbidden one.
    if (!secret?.accessors.includes(grant.principal)) {
      return sendGoogleApiError(res, 403, 'PERMISSION_DENIED', `Permission 'secretmanager.versions.access' denied for resource '${resource}' (or it may not exist).`);
    }
    const number = versionId === 'latest' ? secret.versions.length : Number(versionId);
    const payload = secret.versions[number - 1];
    if (payload === undefined) return sendGoogleApiError(res, 404, 'NOT_FOUND', `Secret Version [${resource}] not found.`);
    const data = Buffer.from(payload, 'utf8');
    const checksum = crc32c(data) ^ (secret.corruptChecksum ? 1 : 0);
    return sendJson(res, 200, {
      name: `${secretName}/versions/${number}`,
      // int64 fields travel as decimal strings in Google's JSON mapping.
      payload: { data: data.toString('base64'), dataCrc32c: String(checksum >>> 0) },
    });
  });
}
