// Turns AWS SDK failures (service exceptions, credential-chain errors, network) into claude-key's error classes.
import {
  AuthError,
  ConfigError,
  DeadlineError,
  NotFoundError,
  UnreachableError,
  isAbortError,
  isClaudeKeyError,
  isNetworkError,
  type ClaudeKeyError,
} from '@claude-key/core';

/** Who was being asked, so messages and hints can name it. */
export interface AwsCallSite {
  /** `Secrets Manager` or `STS`. */
  service: string;
  /** What the call was about, e.g. `secret "prod/anthropic"` or `role arn:aws:iam::…`. */
  subject: string;
  /** The AWS profile in use, for `aws sso login --profile X` hints. */
  awsProfile?: string;
  /** The region the call went to, once the SDK resolved it: secrets and endpoints are regional. */
  region?: string;
}

const inRegion = (site: AwsCallSite) => (site.region ? ` in ${site.region}` : '');

type Kind = 'auth' | 'notFound' | 'config' | 'unreachable';

interface Rule {
  kind: Kind;
  message: (site: AwsCallSite) => string;
  hint?: (site: AwsCallSite) => string;
  /** The service's own message is documented parameter text (no secret material): append it. */
  withServiceMessage?: boolean;
}

const loginHint = (site: AwsCallSite) =>
  site.awsProfile ? `run "aws sso login --profile ${site.awsProfile}" or refresh that profile's credentials` : 'refresh your AWS credentials (e.g. "aws sso login")';

const signatureRule: Rule = {
  kind: 'auth',
  message: (s) => `${s.service} rejected the request signature`,
  hint: () => 'the secret access key does not belong to the access key id; check AWS_SECRET_ACCESS_KEY or the shared credentials file',
};
const unknownKeyRule: Rule = {
  kind: 'auth',
  message: (s) => `${s.service} does not recognise the AWS access key`,
  hint: () => 'the key was deleted, deactivated or belongs to another partition; check AWS_ACCESS_KEY_ID or the AWS profile',
};
const expiredRule: Rule = {
  kind: 'auth',
  message: (s) => `the AWS session credentials have expired (${s.service})`,
  hint: loginHint,
};
const validationRule: Rule = {
  kind: 'config',
  message: (s) => `${s.service} rejected the request for ${s.subject}`,
  withServiceMessage: true,
};

/** Documented error codes of GetSecretValue and STS, plus the signing errors every service returns. */
const RULES: Record<string, Rule> = {
  ResourceNotFoundException: {
    kind: 'notFound',
    message: (s) => `${s.subject} not found${inRegion(s)}`,
    hint: () => 'check --secret-id and --region (a secret lives in one region), and --version-stage / --version-id',
  },
  AccessDeniedException: {
    kind: 'auth',
    message: (s) => `access denied to ${s.subject}`,
    hint: () => 'the identity needs secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key)',
    // "User: arn:... is not authorized to perform: ... because no identity-based policy allows ...":
    // ARNs and the reason, which say whose policy to fix.
    withServiceMessage: true,
  },
  DecryptionFailure: {
    kind: 'auth',
    message: (s) => `${s.service} cannot decrypt ${s.subject} with its KMS key`,
    hint: () => 'the identity needs kms:Decrypt on the key that encrypts the secret',
  },
  InvalidParameterException: validationRule,
  InvalidRequestException: validationRule,
  ValidationException: validationRule,
  ValidationError: validationRule,
  MalformedPolicyDocument: validationRule,
  PackedPolicyTooLarge: validationRule,
  RegionDisabledException: {
    kind: 'config',
    message: (s) => `STS is not activated in this region for ${s.subject}`,
    hint: () => 'activate the region in IAM account settings or pass another --region',
  },
  InternalServiceError: { kind: 'unreachable', message: (s) => `${s.service} had an internal error` },
  InternalFailure: { kind: 'unreachable', message: (s) => `${s.service} had an internal error` },
  ServiceUnavailable: { kind: 'unreachable', message: (s) => `${s.service} is unavailable` },
  ThrottlingException: { kind: 'unreachable', message: (s) => `${s.service} is throttling requests`, hint: () => 'retry later' },
  UnrecognizedClientException: unknownKeyRule,
  InvalidClientTokenId: unknownKeyRule,
  InvalidSignatureException: signatureRule,
  SignatureDoesNotMatch: signatureRule,
  IncompleteSignature: signatureRule,
  MissingAuthenticationToken: signatureRule,
  MissingAuthenticationTokenException: signatureRule,
  ExpiredTokenException: expiredRule,
  ExpiredToken: expiredRule,
  AccessDenied: {
    kind: 'auth',
    message: (s) => `access denied to ${s.subject}`,
    hint: () => "check the role's trust policy, --external-id and the caller's sts:AssumeRole permission",
  },
  InvalidIdentityToken: {
    kind: 'auth',
    message: (s) => `STS rejected the web identity token for ${s.subject}`,
    hint: () => "check the claude-key profile that issues --web-identity-token and the role's OIDC trust",
  },
  IDPRejectedClaim: {
    kind: 'auth',
    message: (s) => `the identity provider rejected the claim for ${s.subject}`,
  },
  IDPCommunicationError: { kind: 'unreachable', message: () => 'STS could not reach the identity provider' },
};

function build(kind: Kind, message: string, hint: string | undefined, cause: unknown): ClaudeKeyError {
  const opts = { cause, ...(hint ? { hint } : {}) };
  switch (kind) {
    case 'auth':
      return new AuthError(message, opts);
    case 'notFound':
      return new NotFoundError(message, opts);
    case 'config':
      return new ConfigError(message, opts);
    case 'unreachable':
      return new UnreachableError(message, opts);
  }
}

/** First line of a message, bounded, for text known to carry no secret. */
const oneLine = (text: string) => text.split(/\r?\n/)[0]!.trim().slice(0, 200);

/** `(ENOTFOUND secretsmanager.eu-wst-1.amazonaws.com)` from the socket error in the cause chain. */
function networkDetail(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const { code, hostname, address, port } = e as { code?: unknown; hostname?: unknown; address?: unknown; port?: unknown };
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) {
      const where = typeof hostname === 'string' ? hostname : typeof address === 'string' ? `${address}${typeof port === 'number' ? `:${port}` : ''}` : '';
      return ` (${code}${where ? ` ${where}` : ''})`;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return '';
}

interface SdkError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** Maps anything the SDK throws to a one-line ClaudeKeyError that never quotes secret material. */
export function toClaudeKeyError(err: unknown, site: AwsCallSite): ClaudeKeyError {
  if (isClaudeKeyError(err)) return err;
  if (isAbortError(err)) return new DeadlineError(`deadline reached while calling ${site.service}`, { cause: err });
  if (isNetworkError(err)) {
    return new UnreachableError(`cannot reach ${site.service}${inRegion(site)}${networkDetail(err)}`, {
      cause: err,
      hint: 'check --region (a mistyped region names an endpoint host that does not exist), the network, and --endpoint-url',
    });
  }

  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    // The chain's messages name profiles and files, never key material.
    const detail = e.message ? `: ${oneLine(e.message)}` : '';
    const sso = /sso/i.test(e.message ?? '');
    const whose = site.awsProfile ? ` for AWS profile "${site.awsProfile}"` : '';
    return new AuthError(`no usable AWS credentials${whose}${detail}`, {
      cause: err,
      hint: sso ? loginHint(site) : 'set --aws-profile / AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "aws configure"',
    });
  }
  if (e.message === 'Region is missing') {
    return new ConfigError('no AWS region configured', { cause: err, hint: 'pass --region, set AWS_REGION, or set region in the AWS profile' });
  }

  // The SDK names modelled STS errors `<wire code>Exception` (InvalidIdentityToken -> InvalidIdentityTokenException).
  const rule = RULES[name] ?? RULES[name.replace(/Exception$/, '')];
  if (rule) {
    const serviceText = rule.withServiceMessage && e.message ? ` (${name}: ${oneLine(e.message)})` : '';
    return build(rule.kind, rule.message(site) + serviceText, rule.hint?.(site), err);
  }
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new UnreachableError(`${site.service} answered HTTP ${status ?? 'error'} (${name || 'unknown error'})`, { cause: err });
  }
  if (status === 401 || status === 403) return new AuthError(`${site.service} refused the request (${name || status})`, { cause: err });
  if (status !== undefined) return new ConfigError(`${site.service} rejected the request for ${site.subject} (${name || status})`, { cause: err });
  return new UnreachableError(`calling ${site.service} failed (${name || 'unknown error'})`, { cause: err });
}
