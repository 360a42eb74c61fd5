// A small subset of Vault's ACL: path rules with `*` (prefix) and `+` (one segment) globs and capabilities.

export type Capability = 'create' | 'read' | 'update' | 'delete' | 'list' | 'sudo' | 'deny';

export interface PolicyRule {
  /** A Vault policy path, e.g. `secret/data/app/*` or `database/creds/+`. */
  path: string;
  capabilities: Capability[];
}

/** The operations a request can need, named as Vault's policy language names them. */
export type Operation = 'create' | 'read' | 'update' | 'delete' | 'list';

/** Rules every non-root token has, like Vault's built-in `default` policy. */
export const DEFAULT_POLICY: PolicyRule[] = [
  { path: 'auth/token/lookup-self', capabilities: ['read'] },
  { path: 'auth/token/renew-self', capabilities: ['update'] },
  { path: 'auth/token/revoke-self', capabilities: ['update'] },
];

function ruleMatches(rulePath: string, path: string): boolean {
  const glob = rulePath.endsWith('*');
  const body = glob ? rulePath.slice(0, -1) : rulePath;
  const pattern = body
    .split('+')
    .map((part) => part.replace(/[.*?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${pattern}${glob ? '.*' : ''}$`).test(path);
}

/**
 * Vault picks the most specific matching rule: an exact path beats a glob, a longer glob beats a
 * shorter one. Returns that rule's capabilities (empty when nothing matches).
 */
export function capabilitiesFor(rules: readonly PolicyRule[], path: string): Set<Capability> {
  const matches = rules.filter((rule) => ruleMatches(rule.path, path));
  if (matches.length === 0) return new Set();
  const rank = (rule: PolicyRule) => (rule.path.endsWith('*') ? 0 : 1_000_000) + rule.path.length;
  const best = Math.max(...matches.map(rank));
  return new Set(matches.filter((rule) => rank(rule) === best).flatMap((rule) => rule.capabilities));
}

/**
 * Whether the rules let `op` through. A POST/PUT is a create or an update: on a path whose backend
 * has an existence check (KV) Vault picks one by whether the entry exists, and this server accepts
 * either capability there; on paths without one (transit `sign/`, `creds/`, identity tokens) the
 * router makes every write an update, so only `update` will do (Vault's policy docs, "Capabilities":
 * "update ... Most Vault paths ... use update for write operations"; openbao internal/vault/router.go,
 * the create-to-update fallback when a path has no ExistenceCheck).
 */
export function allows(rules: readonly PolicyRule[], path: string, op: Operation, existenceCheck = false): boolean {
  const caps = capabilitiesFor(rules, path);
  if (caps.has('deny')) return false;
  if (op === 'create' || op === 'update') return caps.has('update') || (existenceCheck && caps.has('create'));
  return caps.has(op);
}

/** True when the rules grant anything under `prefix` (what the mounts preflight asks). */
export function grantsAnythingUnder(rules: readonly PolicyRule[], prefix: string): boolean {
  return rules.some((rule) => {
    if (rule.capabilities.includes('deny') || rule.capabilities.length === 0) return false;
    const literal = rule.path.split(/[+*]/)[0]!;
    return literal.startsWith(prefix) || prefix.startsWith(literal);
  });
}
