// What a route handler receives: the request as Vault sees it, after namespace and token resolution.
import type { Operation } from './acl.js';
import type { VaultNamespace } from './namespace.js';
import type { TokenRecord } from './state.js';
import type { TokenStore } from './tokens.js';

export interface VaultRequest {
  method: string;
  op: Operation;
  /** The logical path inside the namespace, without `/v1/` and without a namespace prefix. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  ns: VaultNamespace;
  /** The caller's live token, when one was sent and is valid in this namespace. */
  token: TokenRecord | undefined;
  tokens: TokenStore;
  now(): number;
}

/** Reads a string field of a JSON request body, or undefined when absent or not a string. */
export function bodyString(req: VaultRequest, field: string): string | undefined {
  const value = req.body[field];
  return typeof value === 'string' ? value : undefined;
}
