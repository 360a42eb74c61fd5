// Which rules apply to a principal: per-user values fall back to `defaults`; team values are the team's own.
import type { Principal } from './auth/principal.js';
import type { GatewayConfig, Policy } from './config.js';

export interface Scope {
  /** 'user' or 'team', used in messages and limiter keys. */
  kind: 'user' | 'team';
  id: string;
  policy: Policy;
}

export function scopesFor(config: GatewayConfig, principal: Principal): Scope[] {
  const { defaults, users, teams } = config.policies;
  return [
    { kind: 'user', id: principal.user, policy: { ...defaults, ...users[principal.user] } },
    { kind: 'team', id: principal.team, policy: teams[principal.team] ?? {} },
  ];
}

const globCache = new Map<string, RegExp>();
export function globMatch(pattern: string, value: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    globCache.set(pattern, re);
  }
  return re.test(value);
}

/** The model allow-list: the user's own, else the team's, else the defaults, else everything. */
export function allowedModels(config: GatewayConfig, principal: Principal): string[] {
  const { defaults, users, teams } = config.policies;
  return users[principal.user]?.models ?? teams[principal.team]?.models ?? defaults.models ?? ['*'];
}
