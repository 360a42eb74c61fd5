// The one error family: every failure the helper reports is one of these, with a stable code and exit code.
//
// Providers throw them; the core turns them into one stderr line and an exit code. Messages must
// be one actionable line and must never contain a secret (the core redacts again anyway).

/** Exit codes, documented in the README. Distinct per class so scripts and CI can branch on them. */
export const ExitCode = {
  ok: 0,
  /** Unexpected bug in claude-key or a provider. */
  internal: 1,
  /** Bad flags, bad config file, bad provider options, unknown profile or provider. */
  usage: 2,
  /** The provider answered but refused us: bad credentials, permission denied, login required. */
  auth: 3,
  /** The provider could not be reached or is not serving: network, DNS, TLS, 5xx, sealed. */
  unreachable: 4,
  /** The overall deadline (`--timeout`) ran out. */
  deadline: 5,
  /** The provider answered but the secret, path, field or version does not exist. */
  notFound: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

// A brand instead of instanceof: a plugin provider may bundle its own copy of @claude-key/core.
const BRAND = Symbol.for('claude-key.error');

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'AUTH'
  | 'UNREACHABLE'
  | 'DEADLINE'
  | 'NOT_FOUND'
  | 'INTERNAL';

export interface ErrorOptions {
  /** What the user should do next, appended as "; <hint>". */
  hint?: string;
  cause?: unknown;
}

export class ClaudeKeyError extends Error {
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, exitCode: ExitCodeValue, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = opts.hint;
  }

  /** The single line shown to the user (before the core prefixes profile and provider). */
  get line(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

export class UsageError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('USAGE', ExitCode.usage, message, opts);
  }
}

export class ConfigError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('CONFIG', ExitCode.usage, message, opts);
  }
}

export class AuthError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('AUTH', ExitCode.auth, message, opts);
  }
}

export class UnreachableError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('UNREACHABLE', ExitCode.unreachable, message, opts);
  }
}

export class DeadlineError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('DEADLINE', ExitCode.deadline, message, opts);
  }
}

export class NotFoundError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('NOT_FOUND', ExitCode.notFound, message, opts);
  }
}

export class InternalError extends ClaudeKeyError {
  constructor(message: string, opts?: ErrorOptions) {
    super('INTERNAL', ExitCode.internal, message, opts);
  }
}

export function isClaudeKeyError(err: unknown): err is ClaudeKeyError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Network failures from fetch/undici/node (ECONNREFUSED, ENOTFOUND, TLS) look alike across
 * libraries; this maps them to UnreachableError so every provider reports them the same way.
 */
export function isNetworkError(err: unknown): boolean {
  const codes = new Set([
    'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
    'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'CERT_HAS_EXPIRED',
    'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ]);
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** True for an AbortError or TimeoutError raised because our deadline signal fired. */
export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}
