// Maps verified JWT claims to the gateway's user and team, through configurable claim paths.
import { authenticationError } from '../errors.js';

/** Reads a claim by path: the literal name first (URL-like claim names contain dots), then dot-walking. */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (path in payload) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A team claim may be a string or a groups array; from an array prefer a team the config knows. */
export function pickTeam(value: unknown, knownTeams: ReadonlySet<string>): string | undefined {
  if (typeof value === 'string' && value) return value;
  if (!Array.isArray(value)) return undefined;
  const names = value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return names.find((n) => knownTeams.has(n)) ?? names[0];
}

export interface ClaimPaths {
  user: string;
  team: string;
  groups?: string | undefined;
}

export const UNASSIGNED_TEAM = 'unassigned';

export function identityFromClaims(
  payload: Record<string, unknown>,
  paths: ClaimPaths,
  knownTeams: ReadonlySet<string>,
): { user: string; team: string } {
  const user = claimAt(payload, paths.user);
  if (typeof user !== 'string' || !user) throw authenticationError(`Token has no "${paths.user}" claim naming the user.`);
  const team =
    pickTeam(claimAt(payload, paths.team), knownTeams) ??
    (paths.groups ? pickTeam(claimAt(payload, paths.groups), knownTeams) : undefined) ??
    UNASSIGNED_TEAM;
  return { user, team };
}
