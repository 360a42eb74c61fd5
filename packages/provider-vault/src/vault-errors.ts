// Turns Vault's HTTP answers and network failures into claude-key's error classes, one line each.
import {
  AuthError, ConfigError, DeadlineError, NotFoundError, UnreachableError, isAbortError, isNetworkError,
  type ClaudeKeyError,
} from '@claude-key/core';

/** Where a request went, for messages: the API path and the server address. */
export interface RequestSite {
  address: string;
  apiPath: string;
  /** The capability the request needs, named as Vault policies name it. */
  capability: 'read' | 'update';
  /** True when no address was configured and the vault CLI's default was used. */
  defaultAddress?: boolean;
}

/**
 * Vault's `errors` strings are fixed server texts (no request data), so they are safe to show.
 * ACL refusals arrive as go-multierror lists ("1 error occurred:\n\t* permission denied\n\n"):
 * keep the items, drop the framing.
 */
export function vaultReasons(errors: unknown): string {
  if (!Array.isArray(errors)) return '';
  const items = errors
    .filter((e): e is string => typeof e === 'string')
    .flatMap((e) => {
      const bullets = e.split('\n').filter((line) => /^\s*\*\s/.test(line)).map((line) => line.replace(/^\s*\*\s*/, ''));
      return bullets.length > 0 ? bullets : [e.trim()];
    })
    .filter(Boolean);
  return items.join('; ').slice(0, 200);
}

const STANDBY_TEXTS = /local node not active but active cluster node not found|no active Vault instance found|node is not active/;

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|TLS|SSL/;

/** The most telling code in an error chain (ECONNREFUSED, a TLS code), else the innermost message. */
function causeCode(err: unknown): string | undefined {
  let innermost: string | undefined;
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && message && message !== 'fetch failed') innermost = message.split('\n')[0]!.slice(0, 80);
    e = (e as { cause?: unknown }).cause;
  }
  return innermost;
}

/** A failure before any HTTP answer: deadline, refused connection, DNS, TLS. */
export function transportError(err: unknown, site: RequestSite, signal: AbortSignal): ClaudeKeyError {
  if (signal.aborted || isAbortError(err)) return new DeadlineError(`Vault at ${site.address} did not answer ${site.apiPath} in time`);
  const code = causeCode(err) ?? 'network error';
  if (TLS_CODES.test(code)) {
    return new UnreachableError(`TLS handshake with Vault at ${site.address} failed (${code})`, {
      hint: 'set VAULT_CACERT (or --ca-cert) to the CA that signed the server certificate; VAULT_SKIP_VERIFY=true only for testing',
      cause: err,
    });
  }
  if (isNetworkError(err) || err instanceof TypeError) {
    return new UnreachableError(`cannot reach Vault at ${site.address} (${code})`, {
      hint: site.defaultAddress
        ? 'VAULT_ADDR is not set, so this is the vault CLI\'s default address; set VAULT_ADDR (or --address) to your Vault, e.g. https://vault.example.com:8200'
        : 'check VAULT_ADDR (or --address) and that Vault is running',
      cause: err,
    });
  }
  return new UnreachableError(`request to Vault at ${site.address} failed (${code})`, { cause: err });
}

/** An HTTP answer that is not a success, mapped by status and Vault's `errors`. */
export function responseError(status: number, errors: unknown, site: RequestSite): ClaudeKeyError {
  const reason = vaultReasons(errors);
  const where = `${site.apiPath} on ${site.address}`;
  if (status === 403 || status === 401) {
    return new AuthError(`Vault denied ${site.capability} on ${where} (${reason || 'permission denied'})`, {
      hint: `check the policy attached to this token grants ${site.capability} on ${site.apiPath}, and that the token has not expired`,
    });
  }
  if (status === 404) return new NotFoundError(`Vault has nothing at ${where}`);
  // consts.ErrSealed: 503 {"errors":["Vault is sealed"]} (sdk/logical/response_util.go).
  if (status === 503 && /sealed/i.test(reason)) {
    return new UnreachableError(`Vault at ${site.address} is sealed`, { hint: 'unseal it, or point VAULT_ADDR at an unsealed node' });
  }
  // A standby with nowhere to send us (http/handler.go): forwardRequest answers 500 "local node not
  // active but active cluster node not found"; respondStandby 503 "no active Vault instance found",
  // or 503 "node is not active" on a node without HA.
  if ((status === 500 || status === 503) && STANDBY_TEXTS.test(reason)) {
    return new UnreachableError(`Vault at ${site.address} is a standby node and no active node is reachable (${reason})`, {
      hint: 'point VAULT_ADDR at the active node or the cluster\'s load balancer (`vault status` on a node says whether it is active), or wait for the election to finish',
    });
  }
  if (status === 429 || status >= 500) {
    return new UnreachableError(`Vault at ${site.address} answered HTTP ${status} for ${site.apiPath}${reason ? ` (${reason})` : ''}`);
  }
  return new ConfigError(`Vault rejected the request to ${where}: HTTP ${status}${reason ? ` (${reason})` : ''}`);
}
