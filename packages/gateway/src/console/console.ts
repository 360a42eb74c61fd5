// The console: static pages under /console/ and their JSON API, for admins only, behind a session cookie and CSRF checks.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { ApiError, anthropicErrorBody } from '@claude-key/api-formats';
import { identityName } from '../admin.js';
import { verifyChain, type AuditEntry } from '../audit/chain.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import { decideKey, listKeys, listRevocations, revoke, type RevocationKind, type TrustDb, type TrustRegistry } from '../auth/trust.js';
import type { GatewayConfig } from '../config.js';
import { authenticationError, GatewayError, invalidRequest, notFound, permissionError } from '../errors.js';
import { readBody } from '../receive.js';
import {
  deploymentHealth,
  hourOf,
  recentRefusals,
  searchAudit,
  spendByScope,
  usageSeries,
  type AuditFilter,
  type Dimension,
  type Period,
  type Rows,
} from '../store/console-sql.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { RemoteStore } from '../store/remote-store.js';
import { OidcLogin } from './oidc-login.js';
import { COOKIE, readCookie, sameToken, Sessions, type Session } from './sessions.js';

export const CONSOLE_PATH = '/console';
/** Binds a login at the OpenID Provider to the browser that started it; Lax, as the provider's redirect back is cross-site. */
const LOGIN_COOKIE = 'ckg_console_login';
const API = `${CONSOLE_PATH}/api/`;
const BODY_BYTES = 16 * 1024;

export interface ConsoleDeps {
  config: GatewayConfig;
  authenticator: Authenticator;
  trust: TrustRegistry;
  trustDb: TrustDb;
  store: RemoteStore;
  /** Writes the records still queued, so a page shows the request that was just made. */
  flush: () => Promise<void>;
  pendingRecords: () => number;
  redis: Redis | undefined;
  metrics: Metrics;
  log: Logger;
  now: () => number;
}

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

/** The built front end (packages/console/dist), found through the workspace dependency. */
function staticRoot(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@claude-key/console/package.json')), 'dist');
}

const SECURITY_HEADERS = {
  // Everything is served from here: no CDN, no inline script, nothing fetched elsewhere at run time.
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Returns a handler that answers /console and /console/* (true) and leaves every other path alone (false). */
export function createConsole(deps: ConsoleDeps) {
  const { config, now } = deps;
  const settings = config.console;
  const rows: Rows = (sql, params) => deps.store.query(sql, params) as never;
  const sessions = new Sessions(rows, now, settings.sessionMinutes * 60_000, settings.idleMinutes * 60_000);
  const root = staticRoot();

  /**
   * TLS on this socket, or at the proxy in front (X-Forwarded-Proto). Believing that header is safe
   * here: a forged one can only make the cookie stricter (a browser on plain HTTP then drops it).
   */
  const secure = (req: IncomingMessage) =>
    settings.secureCookie ?? (!!(req.socket as TLSSocket).encrypted || req.headers['x-forwarded-proto'] === 'https');

  const send = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    const body = value === undefined ? '' : JSON.stringify(value);
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }).end(body);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    // The message only: errors here come from the store, the provider or a bug, never carry a token.
    if (!(err instanceof GatewayError)) deps.log.error('console request failed', { path: req.url?.split('?')[0], error: (err as Error)?.message });
    const e = err instanceof GatewayError ? err : new GatewayError(500, 'api_error', 'Internal gateway error.');
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-type': 'application/json', ...e.headers };
    if (!req.complete) headers.connection = 'close';
    res.writeHead(e.status, headers).end(anthropicErrorBody(new ApiError(e.status, e.type, e.message)));
  };

  /** Every admin action is an audit record; sign-in and sign-out are too. */
  const audit = (event: string, by: string, details: Record<string, unknown> = {}) =>
    deps.trustDb.applyTrustChange([], { time: new Date(now()).toISOString(), event, by, via: 'console', ...details });

  const sessionCookie = (req: IncomingMessage, value: string, maxAgeSeconds: number) =>
    [`${COOKIE}=${value}`, `Path=${CONSOLE_PATH}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure(req) ? ['Secure'] : [])].join('; ');

  /** A credential revoked after sign-in ends its sessions: checked on every call, from the registry in memory. */
  const stillTrusted = (p: Principal) => !deps.authenticator.isRevoked(p) && deps.authenticator.isAdmin(p);

  const sessionOf = async (req: IncomingMessage): Promise<Session> => {
    const session = await sessions.get(readCookie(req.headers.cookie, COOKIE));
    if (!session) throw authenticationError('Sign in to the console first.');
    if (!stillTrusted(session.principal)) {
      await sessions.close(session.id);
      throw authenticationError('The credential this session was opened with is no longer trusted; sign in again.');
    }
    return session;
  };

  /**
   * A change must come from this console's own page: its Origin is this host, and it carries the
   * session's CSRF token in a header, which another site can neither read nor set.
   */
  const checkOrigin = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    const host = req.headers.host;
    const scheme = secure(req) ? 'https' : 'http';
    const ok = origin && host && (origin === `${scheme}://${host}` || origin === `https://${host}`);
    if (!ok) throw permissionError('Cross-origin request refused: the Origin header must be this gateway.');
  };
  const changeSession = async (req: IncomingMessage): Promise<Session> => {
    checkOrigin(req);
    const session = await sessionOf(req);
    if (!sameToken(req.headers['x-csrf-token'] as string | undefined, session.csrf)) throw permissionError('Missing or wrong X-CSRF-Token header.');
    return session;
  };

  const jsonBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const body = await readBody(req, BODY_BYTES);
    try {
      const value: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw invalidRequest('Body must be a JSON object.');
  };

  const identity = (s: Session) => ({ identity: identityName(s.principal), user: s.principal.user, csrf: s.csrf, expiresAt: new Date(s.expiresAt).toISOString() });

  const signIn = async (req: IncomingMessage, res: ServerResponse) => {
    checkOrigin(req);
    const body = await jsonBody(req);
    const token = typeof body.token === 'string' ? body.token.trim().replace(/^Bearer\s+/i, '') : '';
    if (!token) throw invalidRequest('token is required.');
    const principal = await deps.authenticator.authenticate({ authorization: [`Bearer ${token}`] }, ['authorization']);
    if (!deps.authenticator.isAdmin(principal)) throw permissionError(`${identityName(principal)} is not a gateway admin.`);
    const session = await sessions.open(principal);
    await audit('console.signin', identityName(principal), { credentialId: principal.credentialId });
    send(res, 200, identity(session), { 'set-cookie': sessionCookie(req, session.id, settings.sessionMinutes * 60) });
  };

  const login = settings.login ? new OidcLogin(settings.login, now) : undefined;
  const loginCookie = (req: IncomingMessage, value: string, maxAgeSeconds: number) =>
    [`${LOGIN_COOKIE}=${value}`, `Path=${API}login`, 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`, ...(secure(req) ? ['Secure'] : [])].join('; ');

  const startLogin = async (req: IncomingMessage, res: ServerResponse) => {
    if (!login) throw notFound('This console has no OpenID Provider login (console.login).');
    const { url, state } = await login.start();
    res.writeHead(302, { ...SECURITY_HEADERS, location: url, 'set-cookie': loginCookie(req, state, 600) }).end();
  };

  /** Back from the provider: the same trust rules as a pasted token (claim mapping, revocation, auth.admins). */
  const finishLogin = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!login) throw notFound('This console has no OpenID Provider login (console.login).');
    const { claims, credentialId } = await login.finish(url.searchParams, readCookie(req.headers.cookie, LOGIN_COOKIE));
    const principal = deps.authenticator.jwt.openidPrincipal(settings.login!.issuer, claims, credentialId);
    if (deps.authenticator.isRevoked(principal)) throw authenticationError('Credential has been revoked.');
    if (!deps.authenticator.isAdmin(principal)) throw permissionError(`${identityName(principal)} is not a gateway admin.`);
    const session = await sessions.open(principal);
    await audit('console.signin', identityName(principal), { credentialId, login: 'openid' });
    res.writeHead(302, {
      ...SECURITY_HEADERS,
      location: `${CONSOLE_PATH}/`,
      'set-cookie': [sessionCookie(req, session.id, settings.sessionMinutes * 60), loginCookie(req, '', 0)] as never,
    }).end();
  };

  const signOut = async (req: IncomingMessage, res: ServerResponse) => {
    const session = await changeSession(req);
    await sessions.close(session.id);
    await audit('console.signout', identityName(session.principal));
    send(res, 200, { signedOut: true }, { 'set-cookie': sessionCookie(req, '', 0) });
  };

  const enumParam = <T extends string>(url: URL, name: string, allowed: readonly T[], fallback: T): T => {
    const v = url.searchParams.get(name) ?? fallback;
    if (!allowed.includes(v as T)) throw invalidRequest(`${name} must be one of ${allowed.join(', ')}.`);
    return v as T;
  };

  const auditFilter = (url: URL): AuditFilter => {
    const p = (name: string) => url.searchParams.get(name)?.trim() || undefined;
    const status = p('status');
    if (status !== undefined && !/^\d{3}$/.test(status)) throw invalidRequest('status must be an HTTP status code.');
    const time = (name: string) => {
      const v = p(name);
      if (v === undefined) return undefined;
      // The page's fields say UTC; a time without a zone is read as UTC, whatever the server's zone.
      const d = new Date(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v}Z` : v);
      if (Number.isNaN(d.getTime())) throw invalidRequest(`${name} must be a date or time.`);
      return d.toISOString();
    };
    return { user: p('user'), team: p('team'), model: p('model'), status: status === undefined ? undefined : Number(status), from: time('from'), to: time('to') };
  };

  const budgets = async () => {
    const t = new Date(now());
    const dayStart = t.toISOString().slice(0, 10);
    const monthStart = `${t.toISOString().slice(0, 7)}-01`;
    const [today, month] = await Promise.all([spendByScope(rows, dayStart), spendByScope(rows, monthStart)]);
    // Looked up by key: a company's 2,000 users against 2,000 rows each was 8 million comparisons.
    const byScope = (list: typeof today) => new Map(list.map((r) => [`${r.kind}:${r.id}`, r.usd]));
    const todayByScope = byScope(today);
    const monthByScope = byScope(month);
    const spent = (list: Map<string, number>, kind: string, id: string) => list.get(`${kind}:${id}`) ?? 0;
    const dayFraction = (now() - Date.parse(`${dayStart}T00:00:00Z`)) / 86_400_000;
    const monthEnd = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
    const monthFraction = (now() - Date.parse(`${monthStart}T00:00:00Z`)) / (monthEnd - Date.parse(`${monthStart}T00:00:00Z`));
    // Straight-line forecast: spend so far over the share of the period gone.
    const forecast = (usd: number, fraction: number) => (fraction > 0 ? usd / Math.max(fraction, 1 / 96) : usd);
    const { defaults, users, teams } = config.policies;
    const scopes: { kind: 'user' | 'team'; id: string; dailyUsd?: number | undefined; monthlyUsd?: number | undefined }[] = [];
    for (const [id, p] of Object.entries(teams)) scopes.push({ kind: 'team', id, dailyUsd: p.dailyUsd, monthlyUsd: p.monthlyUsd });
    // A user's budget is their own, else the defaults: every user who spent this month has one then.
    const userIds = new Set([...Object.keys(users), ...month.filter((r) => r.kind === 'user' && r.id !== '-').map((r) => r.id)]);
    for (const id of userIds) {
      const p = { ...defaults, ...users[id] };
      scopes.push({ kind: 'user', id, dailyUsd: p.dailyUsd, monthlyUsd: p.monthlyUsd });
    }
    const teamIds = month.filter((r) => r.kind === 'team' && r.id !== '-' && !teams[r.id]).map((r) => r.id);
    for (const id of teamIds) scopes.push({ kind: 'team', id });
    return scopes.map((s) => {
      const d = spent(todayByScope, s.kind, s.id);
      const m = spent(monthByScope, s.kind, s.id);
      return {
        ...s,
        daySpentUsd: d,
        monthSpentUsd: m,
        dayForecastUsd: forecast(d, dayFraction),
        monthForecastUsd: forecast(m, monthFraction),
      };
    }).sort((a, b) => b.monthSpentUsd - a.monthSpentUsd || a.id.localeCompare(b.id));
  };

  const identities = async () => ({
    keys: await listKeys(deps.trustDb),
    revocations: await listRevocations(deps.trustDb),
    // The config's API keys by id, user and team: never their hashes.
    apiKeys: config.auth.apiKeys.map((k) => ({ id: k.id, user: k.user, team: k.team, revoked: deps.trust.isRevoked('api-key', k.id) || config.auth.revoked.includes(k.id) })),
    issuers: config.auth.issuers.map((i) => ({ issuer: i.issuer, trust: i.trust, audience: i.audience, subjects: i.subjects ?? null, teams: i.teams ?? null, approveEnrollment: i.approveEnrollment })),
    admins: config.auth.admins,
  });

  /** A dependency that does not answer within 2 s is down, as far as this page is concerned. */
  const within = <T>(p: Promise<T>) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2000)));
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };

  const health = async () => {
    // Answers already given belong in "the last hour": write what the recorder still holds first.
    await within(deps.flush()).catch(() => undefined);
    const started = performance.now();
    const store = await within(deps.store.query('SELECT 1')).then(() => ({ ok: true }), (err: Error) => ({ ok: false, error: err.message }));
    const storeMs = Math.round((performance.now() - started) * 10) / 10;
    let redis: { configured: boolean; ok?: boolean; status?: string; latencyMs?: number } = { configured: false };
    if (deps.redis) {
      const t = performance.now();
      const ok = await within(deps.redis.ping()).then(() => true, () => false);
      redis = { configured: true, ok, status: deps.redis.status, latencyMs: Math.round((performance.now() - t) * 10) / 10 };
    }
    const since = new Date(now() - 3_600_000).toISOString();
    return {
      store: { kind: deps.store.kind, latencyMs: storeMs, pendingRecords: deps.pendingRecords(), ...store },
      redis,
      upstreams: Object.entries(config.upstreams).map(([name, u]) => ({ name, type: u.type })),
      models: config.models.map((m) => ({ name: m.name, deployments: m.deployments.map((d) => `${d.upstream}/${d.model}`) })),
      lastHour: store.ok ? await deploymentHealth(rows, since) : [],
      // Kept by this replica since it started (Prometheus has every replica's).
      fallbacks: (await deps.metrics.fallbacks.get()).values.map((v) => ({ from: String(v.labels.from), to: String(v.labels.to), requests: v.value })),
    };
  };

  /** Every audit entry in order (as `audit verify` does): the chain is only as good as its whole length. */
  const verify = async () => {
    const entries: AuditEntry[] = [];
    for (let after = 0; ;) {
      const page = await rows<{ seq: string; prev_hash: string; hash: string; body: string }>(
        `SELECT seq, prev_hash, hash, body FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000`,
        [after],
      );
      for (const r of page) entries.push({ seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, body: r.body });
      if (page.length < 5000) break;
      after = Number(page[page.length - 1]!.seq);
    }
    const head = (await rows<{ seq: string; hash: string }>(`SELECT seq, hash FROM audit_head WHERE id = 1`))[0];
    const result = verifyChain(entries, head ? { seq: Number(head.seq), hash: head.hash } : undefined);
    return { ...result, checkedAt: new Date(now()).toISOString() };
  };

  type Route = { method: string; path: RegExp; run: (req: IncomingMessage, res: ServerResponse, m: RegExpExecArray, url: URL) => Promise<void> };
  const get = (path: RegExp, fn: (url: URL, s: Session, m: RegExpExecArray) => Promise<unknown>): Route => ({
    method: 'GET',
    path,
    run: async (req, res, m, url) => {
      const s = await sessionOf(req);
      send(res, 200, await fn(url, s, m));
    },
  });
  const change = (path: RegExp, fn: (body: Record<string, unknown>, s: Session, m: RegExpExecArray) => Promise<unknown>): Route => ({
    method: 'POST',
    path,
    run: async (req, res, m) => {
      const s = await changeSession(req);
      send(res, 200, await fn(await jsonBody(req), s, m));
    },
  });
  const actor = (s: Session) => ({ by: identityName(s.principal), now: now() });
  const reason = (body: Record<string, unknown>) => (typeof body.reason === 'string' && body.reason ? `${body.reason} (console)` : 'console');

  const routes: Route[] = [
    { method: 'POST', path: /^session$/, run: (req, res) => signIn(req, res) },
    { method: 'GET', path: /^login$/, run: (req, res) => startLogin(req, res) },
    { method: 'GET', path: /^login\/callback$/, run: (req, res, _m, url) => finishLogin(req, res, url) },
    // Public, like /.well-known/claude-key: which provider the sign-in page offers, if any.
    { method: 'GET', path: /^login\/options$/, run: async (_req, res) => send(res, 200, { openid: settings.login ? { issuer: settings.login.issuer } : null }) },
    { method: 'DELETE', path: /^session$/, run: (req, res) => signOut(req, res) },
    get(/^session$/, async (_url, s) => identity(s)),
    get(/^usage$/, async (url) => {
      await deps.flush();
      const by = enumParam<Dimension>(url, 'by', ['team', 'user', 'model'], 'team');
      const period = enumParam<Period>(url, 'period', ['day', 'week', 'month'], 'week');
      return usageSeries(rows, by, period, now());
    }),
    get(/^budgets$/, async () => {
      await deps.flush();
      const [scopes, refusals] = await Promise.all([budgets(), recentRefusals(rows, new Date(now() - 7 * 86_400_000).toISOString(), 50)]);
      return { scopes, refusals };
    }),
    get(/^identities$/, async () => identities()),
    change(/^keys\/([A-Za-z0-9_-]{43})\/(approve|revoke)$/, async (body, s, m) => {
      const teams = Array.isArray(body.teams) && body.teams.every((t) => typeof t === 'string' && t) ? (body.teams as string[]) : undefined;
      const key = await decideKey(deps.trustDb, actor(s), m[1]!, m[2] as 'approve' | 'revoke', {
        lifetimeDays: config.auth.enrollment.keyLifetimeDays,
        teams,
        reason: reason(body),
      });
      return { key };
    }),
    change(/^revocations$/, async (body, s) => {
      if (typeof body.value !== 'string' || !body.value) throw invalidRequest('value is required.');
      await revoke(deps.trustDb, actor(s), body.kind as RevocationKind, body.value, reason(body));
      return { kind: body.kind, value: body.value };
    }),
    get(/^audit$/, async (url) => {
      await deps.flush();
      return { entries: await searchAudit(rows, auditFilter(url), 200) };
    }),
    get(/^audit\/verify$/, async () => verify()),
    get(/^health$/, async () => health()),
  ];

  /** A filtered range of the audit log as JSON Lines, each line re-verifiable (seq, prevHash, hash, record). */
  const exportAudit = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const s = await sessionOf(req);
    await deps.flush();
    const filter = auditFilter(url);
    const entries = (await searchAudit(rows, filter, 100_000)).reverse();
    await audit('console.audit.export', identityName(s.principal), { filter, records: entries.length });
    const text = entries.map((e) => `${JSON.stringify({ seq: e.seq, prevHash: e.prevHash, hash: e.hash, record: JSON.parse(e.body) })}\n`).join('');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'application/x-ndjson',
      'content-disposition': `attachment; filename="audit-${hourOf(new Date(now()).toISOString())}.jsonl"`,
      'content-length': String(Buffer.byteLength(text)),
    }).end(text);
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    const rel = pathname === CONSOLE_PATH || pathname === `${CONSOLE_PATH}/` ? 'index.html' : pathname.slice(CONSOLE_PATH.length + 1);
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + '/') || !/^[\w./-]+$/.test(rel)) throw notFound('No such console file.');
    const ext = rel.slice(rel.lastIndexOf('.'));
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      throw notFound(`No such console file: ${rel}`);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'cache-control': 'no-cache', 'content-type': MIME[ext] ?? 'application/octet-stream', 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return (req: IncomingMessage, res: ServerResponse, pathname: string, rawUrl: string): boolean => {
    if (pathname !== CONSOLE_PATH && !pathname.startsWith(`${CONSOLE_PATH}/`)) return false;
    const url = new URL(rawUrl, 'http://gateway');
    const method = req.method ?? 'GET';
    let work: Promise<void>;
    if (pathname === CONSOLE_PATH) {
      res.writeHead(308, { location: `${CONSOLE_PATH}/` }).end();
      return true;
    }
    if (pathname.startsWith(API)) {
      const sub = pathname.slice(API.length);
      if (sub === 'audit/export' && method === 'GET') work = exportAudit(req, res, url);
      else {
        const route = routes.find((r) => r.method === method && r.path.test(sub));
        if (!route) work = Promise.reject(notFound(`${method} ${pathname} is not a console API.`));
        else work = route.run(req, res, route.path.exec(sub)!, url);
      }
    } else if (method === 'GET' || method === 'HEAD') {
      work = serveStatic(req, res, pathname);
    } else {
      work = Promise.reject(notFound(`${method} ${pathname} is not served.`));
    }
    work.catch((err) => fail(req, res, err));
    return true;
  };
}
