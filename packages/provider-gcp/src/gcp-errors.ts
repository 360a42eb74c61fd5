// Turns google-auth-library, gaxios and Google API failures into one-line claude-key errors with the fix.
import { AuthError, ConfigError, InternalError, NotFoundError, UnreachableError, isClaudeKeyError, isNetworkError } from '@claude-key/core';

const ADC_LOGIN_HINT = 'run `gcloud auth application-default login`, or point GOOGLE_APPLICATION_CREDENTIALS / --credentials-file at a valid key';

interface GoogleFailure {
  status?: number;
  /** OAuth endpoints: `{ error, error_description }`. */
  oauthError?: string;
  oauthDescription?: string;
  /** Google APIs: `{ error: { code, status, message } }`. */
  apiStatus?: string;
  apiMessage?: string;
  /** `google.rpc.ErrorInfo` in `error.details[]`: the machine-readable reason and its metadata. */
  reason?: string;
  reasonMetadata?: Record<string, string>;
}

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The ErrorInfo detail of a Google API error (cloud.google.com/apis/design/errors, "Error details"). */
function errorInfo(details: unknown): { reason: string; metadata: Record<string, string> } | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details as Record<string, unknown>[]) {
    if (detail?.['@type'] !== ERROR_INFO || typeof detail.reason !== 'string') continue;
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries((detail.metadata ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') metadata[key] = value;
    }
    return { reason: detail.reason, metadata };
  }
  return undefined;
}

/** What the server said, read from a GaxiosError's response without trusting its shape. */
function readFailure(err: unknown): GoogleFailure {
  const response = (err as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  const failure: GoogleFailure = typeof response?.status === 'number' ? { status: response.status } : {};
  const data = response?.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object') {
    if (typeof data.error === 'string') {
      failure.oauthError = data.error;
      if (typeof data.error_description === 'string') failure.oauthDescription = data.error_description;
    } else if (data.error && typeof data.error === 'object') {
      const apiError = data.error as Record<string, unknown>;
      if (typeof apiError.status === 'string') failure.apiStatus = apiError.status;
      if (typeof apiError.message === 'string') failure.apiMessage = apiError.message;
      const info = errorInfo(apiError.details);
      if (info) {
        failure.reason = info.reason;
        failure.reasonMetadata = info.metadata;
      }
    }
  }
  return failure;
}

/** Google's error texts carry resource names and reasons, never credentials; still keep them short. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

export interface FailureContext {
  /** What we were doing, e.g. "minting an access token". */
  what: string;
  signal: AbortSignal;
  /** The secret or service account a 403/404 is about. */
  resource?: string;
  /** The IAM role the caller needs on `resource`. */
  role?: string;
}

/** Maps a failure to a ClaudeKeyError; deadline aborts are passed through for the core to report. */
export function gcpError(err: unknown, { what, signal, resource, role }: FailureContext): unknown {
  if (isClaudeKeyError(err)) return err;
  if (signal.aborted) return signal.reason ?? err;
  const message = err instanceof Error ? err.message : String(err);
  const failure = readFailure(err);

  if (message.startsWith('Could not load the default credentials')) {
    return new AuthError('no Google Application Default Credentials found', {
      hint: `${ADC_LOGIN_HINT}, or run on Google Cloud with a service account attached`,
    });
  }
  if (failure.oauthError) {
    const detail = oneLine(`${failure.oauthError}${failure.oauthDescription ? `: ${failure.oauthDescription}` : ''}`);
    if (failure.oauthError === 'invalid_grant' || failure.oauthError === 'invalid_client' || failure.oauthError === 'unauthorized_client') {
      return new AuthError(`Google refused the credentials while ${what} (${detail})`, { hint: ADC_LOGIN_HINT, cause: err });
    }
    if (failure.oauthError === 'invalid_scope') return new ConfigError(`Google refused the requested scopes or audience (${detail})`, { cause: err });
    return new AuthError(`Google's token endpoint refused ${what} (${detail})`, { cause: err });
  }
  const apiDetail = failure.apiMessage ? ` (${oneLine(failure.apiMessage)})` : '';
  // A disabled API is 403 PERMISSION_DENIED too, but no role fixes it: the API must be enabled in
  // the consumer project (ErrorReason SERVICE_DISABLED, google/api/error_reason.proto).
  if (failure.reason === 'SERVICE_DISABLED') {
    const service = failure.reasonMetadata?.service ?? 'the API';
    const project = /^projects\/(.+)$/.exec(failure.reasonMetadata?.consumer ?? '')?.[1];
    return new AuthError(`${service} is not enabled${project ? ` in project ${project}` : ''} (Google answered SERVICE_DISABLED while ${what})`, {
      hint: `enable it: gcloud services enable ${service}${project ? ` --project=${project}` : ''}, then wait a few minutes for it to take effect`,
      cause: err,
    });
  }
  switch (failure.status) {
    case 401:
      return new AuthError(`Google rejected the access token while ${what}${apiDetail}`, { hint: ADC_LOGIN_HINT, cause: err });
    case 403:
      return new AuthError(`permission denied on ${resource ?? 'the request'} while ${what}${resource ? '' : apiDetail}`, {
        hint: role && resource ? `grant the caller ${role} on ${resource} (or check the name: Google answers 403 for names that do not exist)` : 'check the IAM roles of the credentials',
        cause: err,
      });
    case 404:
      return new NotFoundError(`${resource ?? 'the resource'} does not exist${apiDetail}`, { cause: err });
    case 400:
      return new ConfigError(`Google rejected the request while ${what}${apiDetail}`, { cause: err });
  }
  if (failure.status !== undefined && failure.status >= 500) {
    return new UnreachableError(`Google answered HTTP ${failure.status} while ${what}${apiDetail}`, { cause: err });
  }
  if (isNetworkError(err) || /metadata (service|server)|ECONNREFUSED|socket hang up/i.test(message)) {
    return new UnreachableError(`cannot reach Google while ${what} (${oneLine(message)})`, {
      hint: 'check the network and proxy (HTTPS_PROXY), and the endpoint options (--secret-manager-endpoint, --iam-credentials-endpoint, a key file\'s token_uri) if you set any',
      cause: err,
    });
  }
  if (/DECODER|PEM|private key|asn1/i.test(message)) {
    return new ConfigError(`the credentials' private_key cannot be used for signing while ${what}`, { hint: 'download a fresh service-account key', cause: err });
  }
  return new InternalError(`unexpected failure while ${what} (${oneLine(message)})`, { cause: err });
}
