// Credentials for a Vertex upstream: the gateway's own Google token, or the caller's passed through.
//
// Proxy-specified: google-auth-library resolves Application Default Credentials (or the key given)
// and caches/refreshes the access token. Client-specified: the caller's `Authorization` already
// carries their Google token, so it goes upstream untouched and the gateway authenticates the
// caller from `Proxy-Authorization` instead.

import { AuthError, UnreachableError, isNetworkError } from '@claude-key/core';
import type { GoogleAuthOptions } from 'google-auth-library';
import { ApiError } from './errors.js';
import type { UpstreamRequest } from './types.js';

export const VERTEX_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface VertexTokenSource {
  /** Headers to add to a Vertex request: `authorization` (and `x-goog-user-project` when the credential names one). */
  headers(): Promise<Record<string, string>>;
}

/**
 * The gateway's own Google credentials. Without options: Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server). The library is loaded on first use.
 */
export function googleTokenSource(options: Omit<GoogleAuthOptions, 'scopes'> = {}): VertexTokenSource {
  let auth: { getRequestHeaders(): Promise<Headers> } | undefined;
  return {
    async headers() {
      if (!auth) {
        const { GoogleAuth } = await import('google-auth-library');
        auth = new GoogleAuth({ ...options, scopes: VERTEX_SCOPE });
      }
      let headers: Headers;
      try {
        headers = await auth.getRequestHeaders();
      } catch (err) {
        if (isNetworkError(err)) throw new UnreachableError('could not reach Google to get a Vertex access token', { cause: err });
        throw new AuthError('could not get a Google access token for Vertex', {
          hint: 'set GOOGLE_APPLICATION_CREDENTIALS or run the gateway with a service account',
          cause: err,
        });
      }
      const out: Record<string, string> = {};
      headers.forEach((value, key) => {
        out[key.toLowerCase()] = value;
      });
      return out;
    },
  };
}

/** Client-specified credentials: forward the caller's own `Authorization` (their Google token). */
export function callerTokenSource(callerHeaders: Record<string, string | string[] | undefined>): VertexTokenSource {
  return {
    async headers() {
      const value = callerHeaders['authorization'];
      const authorization = Array.isArray(value) ? value[0] : value;
      if (!authorization || !/^Bearer\s+\S+$/i.test(authorization)) {
        throw new ApiError(
          401,
          'authentication_error',
          'client-specified Vertex credentials need Authorization: Bearer <Google token> (and the gateway key in Proxy-Authorization)',
        );
      }
      return { authorization };
    },
  };
}

/** Returns `request` with the token source's headers added. */
export async function authorizeVertexRequest(request: UpstreamRequest, source: VertexTokenSource): Promise<UpstreamRequest> {
  return { ...request, headers: { ...request.headers, ...(await source.headers()) } };
}
