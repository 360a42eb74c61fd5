// Turns openid-client failures into one-line claude-key errors (network, OAuth error codes, bad answers).
import {
  AuthError,
  ConfigError,
  InternalError,
  NotFoundError,
  UnreachableError,
  isAbortError,
  isClaudeKeyError,
  isNetworkError,
} from '@claude-key/core';

/** What we were doing, so the line says it: "refresh the session", "discover the provider". */
export interface Step {
  issuer: string;
  action: string;
}

export function oidcError(err: unknown, step: Step): Error {
  if (isClaudeKeyError(err)) return err;
  // openid-client wraps an abort during its polling wait in a ClientError: surface the abort itself.
  const aborted = findInChain(err, isAbortError);
  if (aborted) return aborted as Error;
  if (isNetworkError(err)) {
    return new UnreachableError(`cannot reach the OpenID Provider ${step.issuer} to ${step.action} (${networkCode(err)})`, {
      hint: 'check the --issuer URL and your network',
      cause: err,
    });
  }
  const e = err as { name?: string; code?: string; error?: string; status?: number; error_description?: string; cause?: unknown; message?: string };
  if (e.name === 'WWWAuthenticateChallengeError') {
    // RFC 6749 5.2: a 401 for client authentication carries the OAuth error in WWW-Authenticate.
    const challenge = (e.cause as { parameters?: { error?: string; error_description?: string } }[] | undefined)?.[0]?.parameters;
    return new AuthError(`the OpenID Provider ${step.issuer} refused to ${step.action}: ${challenge?.error ?? `HTTP ${e.status ?? 401}`}${describe(challenge?.error_description)}`, {
      hint: hintFor(challenge?.error),
      cause: err,
    });
  }
  if ((e.name === 'ResponseBodyError' || e.name === 'AuthorizationResponseError') && typeof e.error === 'string') {
    const line = `the OpenID Provider ${step.issuer} refused to ${step.action}: ${e.error}${describe(e.error_description)}`;
    if ((e.status ?? 0) >= 500 || e.error === 'server_error' || e.error === 'temporarily_unavailable') {
      return new UnreachableError(line, { cause: err });
    }
    // Every 4xx OAuth error (RFC 6749 5.2, RFC 8628 3.5) means the server works and said no.
    return new AuthError(line, { hint: hintFor(e.error), cause: err });
  }
  if (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
    const status = (e.cause as { status?: unknown } | undefined)?.status;
    if (status === 404) {
      return new NotFoundError(`the OpenID Provider ${step.issuer} answered 404 when asked to ${step.action}`, {
        hint: 'check the --issuer URL (it must serve /.well-known/openid-configuration)',
        cause: err,
      });
    }
    const what = typeof status === 'number' ? `HTTP ${status}` : 'a response that is not OAuth JSON';
    return new UnreachableError(`the OpenID Provider ${step.issuer} answered ${what} when asked to ${step.action}`, { cause: err });
  }
  if (e.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN') {
    return new ConfigError(`the OpenID Provider ${step.issuer} is plain http`, {
      hint: 'use https, or --allow-insecure-requests for a loopback test provider',
      cause: err,
    });
  }
  if (e.name === 'ClientError' || e.name === 'OperationProcessingError') {
    // openid-client's own messages are fixed texts about what failed validation; they carry no token.
    return new AuthError(`the OpenID Provider ${step.issuer} sent an answer that failed validation while trying to ${step.action}: ${e.message}`, {
      cause: err,
    });
  }
  return new InternalError(`unexpected failure while trying to ${step.action} at ${step.issuer}: ${e.name ?? 'error'}`, { cause: err });
}

/** True when the token endpoint said the refresh token is no longer good (expired, revoked, reused). */
export function isInvalidGrant(err: unknown): boolean {
  return findInChain(err, (e) => (e as { name?: string; error?: string }).name === 'ResponseBodyError' && (e as { error?: string }).error === 'invalid_grant') !== undefined;
}

function findInChain(err: unknown, test: (e: unknown) => boolean): unknown {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (test(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function hintFor(error: string | undefined): string | undefined {
  if (error === 'invalid_client' || error === 'unauthorized_client') return 'check --client-id, --client-secret and --client-auth';
  if (error === 'invalid_scope') return 'check --scope against what the client may request';
  if (error === 'invalid_target') return 'check --resource against what the provider knows';
  return undefined;
}

// error_description is meant for developers and never holds a token, but it is the server's text:
// keep it short, on one line and printable.
function describe(text: string | undefined): string {
  if (!text) return '';
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 120);
  return clean ? ` (${clean})` : '';
}

function networkCode(err: unknown): string {
  const withCode = findInChain(err, (e) => typeof (e as { code?: unknown }).code === 'string');
  return withCode ? (withCode as { code: string }).code : 'network error';
}
