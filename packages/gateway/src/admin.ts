// The admin and enrollment API: usage report, enrolled keys, revocations (each change an audit record), onboarding discovery.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { importJWK, jwtVerify } from 'jose';
import { ApiError, anthropicErrorBody } from '@claude-key/api-formats';
import type { Authenticator } from './auth/authenticate.js';
import { UNASSIGNED_TEAM } from './auth/claims.js';
import type { Principal } from './auth/principal.js';
import { decideKey, enrollKey, listKeys, listRevocations, publicJwk, revoke, type RevocationKind, type TrustDb } from './auth/trust.js';
import type { GatewayConfig } from './config.js';
import { authenticationError, GatewayError, invalidRequest, notFound, permissionError } from './errors.js';
import { closeAfterAnswer, readBody } from './receive.js';
import type { ReportKey } from './store/store.js';

/** The `aud` of the proof-of-possession token `claude-key jwt enroll` signs with the key it enrolls. */
export const ENROLL_AUDIENCE = 'claude-key-gateway enrollment';
/** Enrollment and admin bodies are small; nothing larger is read. */
const ADMIN_BODY_BYTES = 16 * 1024;

export interface AdminDeps {
  config: GatewayConfig;
  authenticator: Authenticator;
  trust: TrustDb;
  now: () => number;
  authenticate: (req: IncomingMessage) => Promise<Principal>;
  report: (by: ReportKey, since: Date) => Promise<unknown>;
  parseSince: (value: string | null, nowMs: number) => Date;
}

export const identityName = (p: Principal) => `${p.source} ${p.subject}`;

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, ADMIN_BODY_BYTES);
  let value: unknown;
  try {
    value = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw invalidRequest('Body is not valid JSON.');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('Body must be a JSON object.');
  return value as Record<string, unknown>;
}

const stringList = (v: unknown, name: string): string[] | undefined => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'string' && t.length > 0)) throw invalidRequest(`${name} must be an array of names.`);
  return v as string[];
};

/**
 * The admin API: `handle` answers /enroll, /.well-known/claude-key and /admin/* (false for any
 * other path); `requireAdmin` is the one admin check, also used for /metrics.
 */
export function createAdmin(deps: AdminDeps) {
  const { config, trust, now } = deps;

  const send = (res: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    const e = err instanceof GatewayError ? err : new GatewayError(500, 'api_error', 'Internal gateway error.');
    const headers: Record<string, string> = { 'content-type': 'application/json', ...e.headers, ...closeAfterAnswer(req, res) };
    res.writeHead(e.status, headers).end(anthropicErrorBody(new ApiError(e.status, e.type, e.message)));
  };

  const requireAdmin = async (req: IncomingMessage) => {
    const principal = await deps.authenticate(req);
    if (!deps.authenticator.isAdmin(principal)) throw permissionError(`${identityName(principal)} is not a gateway admin.`);
    return principal;
  };

  /**
   * Anyone may ask to enroll a key, proving they hold its private half; the key stays pending (it
   * authenticates nobody) until an admin approves it, and may then assert only the approved user
   * and teams. Pending requests are capped, so this costs an unauthenticated caller little.
   */
  const enroll = async (req: IncomingMessage) => {
    const issuer = config.auth.issuers.find((i) => i.trust === 'enrolled');
    if (!issuer) throw notFound('This gateway has no enrolled-key issuer.');
    // A login token (Authorization: Bearer) can prove who is enrolling; checked before the body is read.
    const login = hasCredential(req) ? await deps.authenticate(req) : undefined;
    const body = await jsonBody(req);
    const named = typeof body.user === 'string' && body.user ? body.user : undefined;
    const user = named ?? login?.user;
    if (!user) throw invalidRequest('user is required.');
    const teams = stringList(body.teams, 'teams') ?? [];
    const { jwk, alg } = publicJwk(body.jwk);
    if (typeof body.proof !== 'string') throw invalidRequest('proof (a JWT signed by the key) is required.');
    try {
      await jwtVerify(body.proof, await importJWK(jwk, alg), {
        algorithms: [alg],
        audience: ENROLL_AUDIENCE,
        ...(named ? { subject: named } : {}),
        maxTokenAge: 300,
        clockTolerance: config.auth.clockSkewSeconds,
        currentDate: new Date(now()),
      });
    } catch {
      throw authenticationError('The enrollment proof is not a fresh token signed by this key for this user.');
    }
    const proven = login ? await provenBy(login, user, teams) : undefined;
    const actor = { by: proven ? identityName(login!) : 'enrollment', now: now() };
    const lifetimeDays = config.auth.enrollment.keyLifetimeDays;
    let key = await enrollKey(trust, actor, { jwk, user, teams: proven?.teams ?? teams, lifetimeDays, maxPending: config.auth.enrollment.maxPending });
    if (proven) key = await decideKey(trust, actor, key.kid, 'approve', { lifetimeDays });
    return { kid: key.kid, status: key.status, user: key.user, teams: key.teams, issuer: issuer.issuer, audience: issuer.audience };
  };

  /**
   * What a developer's machine needs to onboard, public by nature: where to enroll a key and for which
   * issuer and audience, and which OpenID Provider (and client id) to log in with. No keys, users or teams.
   */
  const discovery = () => ({
    enrollment: config.auth.issuers
      .filter((i) => i.trust === 'enrolled')
      .map((i) => ({ issuer: i.issuer, audience: i.audience, endpoint: '/enroll', algorithms: i.algorithms, maxLifetimeSeconds: i.maxLifetimeSeconds })),
    openid: config.auth.issuers
      .filter((i) => i.trust === 'openid' && (i.discovery || i.jwksUrl))
      .map((i) => ({ issuer: i.issuer, audience: i.audience, ...(i.clientId ? { clientId: i.clientId } : {}) })),
    formats: { anthropic: '/', bedrock: config.formats.bedrockPrefix, vertex: config.formats.vertexPrefix },
  });

  const hasCredential = (req: IncomingMessage) => config.auth.headers.some((h) => req.headers[h] !== undefined);

  /**
   * An enrollment proven by a login at an OpenID Provider that may approve enrollments: the key is
   * approved at once, for the user that provider asserts and only teams it asserts too.
   */
  const provenBy = async (login: Principal, user: string, requested: string[]) => {
    const source = config.auth.issuers.find((i) => i.issuer === login.source);
    if (!source?.approveEnrollment) return undefined;
    if (login.user !== user) throw permissionError(`The login is ${login.user}; it cannot enroll a key for "${user}".`);
    const known = new Set(Object.keys(config.policies.teams));
    const asserted = new Set([login.team, ...(login.groups ?? []).filter((g) => known.has(g))].filter((t) => t !== UNASSIGNED_TEAM));
    const teams = requested.length ? requested : [...asserted];
    const refused = teams.filter((t) => !asserted.has(t));
    if (refused.length) throw permissionError(`The login does not assert team(s) ${refused.join(', ')}.`);
    return { teams };
  };

  const routes: { method: string; path: RegExp; run: (req: IncomingMessage, m: RegExpExecArray, url: URL) => Promise<[number, unknown]> }[] = [
    { method: 'GET', path: /^\/\.well-known\/claude-key$/, run: async () => [200, discovery()] },
    { method: 'POST', path: /^\/enroll$/, run: async (req) => [202, await enroll(req)] },
    {
      method: 'GET',
      path: /^\/admin\/usage$/,
      run: async (req, _m, url) => {
        await requireAdmin(req);
        const by = (url.searchParams.get('by') ?? 'user') as ReportKey;
        if (!['user', 'team', 'model'].includes(by)) throw invalidRequest('by must be user, team or model.');
        const since = deps.parseSince(url.searchParams.get('since'), now());
        return [200, { by, since: since.toISOString(), rows: await deps.report(by, since) }];
      },
    },
    {
      method: 'GET',
      path: /^\/admin\/keys$/,
      run: async (req, _m, url) => {
        await requireAdmin(req);
        const status = url.searchParams.get('status') ?? undefined;
        if (status && !['pending', 'active', 'revoked'].includes(status)) throw invalidRequest('status must be pending, active or revoked.');
        return [200, { keys: await listKeys(trust, status as never) }];
      },
    },
    {
      method: 'POST',
      path: /^\/admin\/keys\/([A-Za-z0-9_-]{43})\/(approve|revoke)$/,
      run: async (req, m) => {
        const admin = await requireAdmin(req);
        const body = await jsonBody(req);
        const key = await decideKey(trust, { by: identityName(admin), now: now() }, m[1]!, m[2] as 'approve' | 'revoke', {
          lifetimeDays: config.auth.enrollment.keyLifetimeDays,
          user: typeof body.user === 'string' ? body.user : undefined,
          teams: stringList(body.teams, 'teams'),
          reason: typeof body.reason === 'string' ? body.reason : undefined,
        });
        return [200, { key }];
      },
    },
    {
      method: 'GET',
      path: /^\/admin\/revocations$/,
      run: async (req) => {
        await requireAdmin(req);
        return [200, { revocations: await listRevocations(trust) }];
      },
    },
    {
      method: 'POST',
      path: /^\/admin\/revocations$/,
      run: async (req) => {
        const admin = await requireAdmin(req);
        const body = await jsonBody(req);
        if (typeof body.value !== 'string') throw invalidRequest('value is required.');
        await revoke(trust, { by: identityName(admin), now: now() }, body.kind as RevocationKind, body.value, typeof body.reason === 'string' ? body.reason : undefined);
        return [201, { kind: body.kind, value: body.value }];
      },
    },
  ];

  const handle = (req: IncomingMessage, res: ServerResponse, pathname: string, url: string): boolean => {
    if (pathname !== '/enroll' && pathname !== '/.well-known/claude-key' && !pathname.startsWith('/admin/')) return false;
    for (const route of routes) {
      const m = route.path.exec(pathname);
      if (!m || route.method !== req.method) continue;
      route.run(req, m, new URL(url, 'http://gateway')).then(([status, value]) => send(res, status, value), (err) => fail(req, res, err));
      return true;
    }
    fail(req, res, notFound(`${req.method} ${pathname} is not served by this gateway.`));
    return true;
  };
  return { handle, requireAdmin };
}
