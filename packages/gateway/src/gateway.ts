// The gateway: wires config, authentication, policies, upstreams, storage and the pipeline together.
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { parseDuration } from '@claude-key/core';
import { CheckpointWriter, loadOrCreateSigningKey } from './audit/checkpoints.js';
import { createAdmin } from './admin.js';
import { Authenticator } from './auth/authenticate.js';
import { TrustRegistry, type TrustDb } from './auth/trust.js';
import { Budgets, MemoryLedger, RedisLedger } from './budgets.js';
import { createConsole } from './console/console.js';
import type { GatewayConfig } from './config.js';
import type { RequestContext } from './context.js';
import {
  ApiError,
  formatOfPath,
  inferenceProfilesBody,
  matchInbound,
  renderError,
  type ApiFormat,
  type InboundOptions,
  type InboundRoute,
} from '@claude-key/api-formats';
import { asKnownError, dependencyUnavailable, invalidRequest, writeApiError } from './errors.js';
import { RateLimits } from './limits.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { compose } from './pipeline.js';
import { AccountedResponse, accountStage } from './stages/account.js';
import { authenticateStage } from './stages/authenticate.js';
import { budgetStage } from './stages/budget.js';
import { forwardStage } from './stages/forward.js';
import { limitsStage } from './stages/limits.js';
import { parseStage } from './stages/parse.js';
import { policyStage } from './stages/policy.js';
import { readBodyStage } from './stages/read-body.js';
import { routeStage } from './stages/route.js';
import { createRouter } from './routing.js';
import type { Scope } from './policy.js';
import type { RequestRecord } from './store/record.js';
import { FileJournal, noJournal } from './store/journal.js';
import { RemoteStore } from './store/remote-store.js';
import { createUpstreams, type Upstreams } from './upstreams/index.js';
import { BatchRecorder } from './usage/recorder.js';

export interface GatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** The clock for token expiry, budgets and record times (ms since epoch). */
  now?: () => number;
  logger?: Logger;
  /** PostgreSQL schema for the store (tests use a fresh one each run). */
  dbSchema?: string;
  /** Picks among weighted deployments (tests pin it). */
  random?: () => number;
}

export interface Gateway {
  readonly config: GatewayConfig;
  readonly store: RemoteStore;
  readonly upstreams: Upstreams;
  readonly recorder: BatchRecorder;
  readonly metrics: Metrics;
  readonly authenticator: Authenticator;
  readonly trust: TrustRegistry;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The metrics listener's base URL once listening, when `metrics.port` is set. */
  metricsUrl: string | undefined;
  /** Starts an HTTP server; resolves to its base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, writes every pending record, closes everything. */
  close(): Promise<void>;
}

export async function createGateway(config: GatewayConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const env = opts.env ?? process.env;
  const now = opts.now ?? Date.now;
  const log = opts.logger ?? createLogger(config.log.level);
  const metrics = createMetrics();
  const inbound: InboundOptions = config.formats;

  const store = await RemoteStore.open({ url: config.store.url, path: config.store.path, schema: opts.dbSchema, engine: config.store.engine });
  // Changes made here reload this replica at once; other replicas hear the NOTIFY (or poll).
  const trustDb: TrustDb = {
    kind: store.kind,
    rows: (sql, params) => store.query(sql, params),
    applyTrustChange: (statements, audit, notify) => store.applyTrustChange(statements, audit, notify).then(() => trust.reload()),
  };
  const trust = new TrustRegistry(trustDb, now, (err) => log.warn('trust registry reload failed', { error: err.message }));
  await trust.start({ pollMs: config.auth.trustPollMs, listenUrl: config.store.url });
  const authenticator = new Authenticator(config, now, trust);
  authenticator.jwt.preload();
  const upstreams = await createUpstreams(config, env);
  const router = createRouter(config, upstreams.byName, opts.random);
  let redis: Redis | undefined;
  if (config.redis.url) {
    const { Redis: RedisClient } = await import('ioredis');
    // Fail fast while Redis is away: no offline queue (commands would wait for the reconnect), a
    // short command timeout, one try per command. The policy (failMode) then decides.
    redis = new RedisClient(config.redis.url, {
      enableOfflineQueue: false,
      commandTimeout: config.redis.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
    const redisUrl = config.redis.url;
    let down = false;
    redis.on('error', (err: Error) => {
      if (!down) log.warn('redis unavailable; budgets and limits follow their failMode', { redis: redisUrl.replace(/\/\/[^@]*@/, '//'), error: err.message });
      down = true;
    });
    redis.on('ready', () => {
      if (down) log.info('redis available again');
      down = false;
    });
    // Commands before the first connection would fail (no offline queue) and fall to failMode:
    // give it a few seconds to connect before serving; past that, start anyway.
    const client = redis;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      client.once('ready', () => (clearTimeout(timer), resolve()));
    });
  }
  const failModeOf = (which: 'budgets' | 'limits') => (scope: Scope) => scope.policy.failMode?.[which] ?? config.redis.failMode;
  const limits = new RateLimits(redis, { failMode: failModeOf('limits') });
  const budgets = new Budgets(redis ? new RedisLedger(redis) : new MemoryLedger(now), now, { failMode: failModeOf('budgets') });
  // Spend counted in process during a Redis outage goes to Redis once it answers again.
  const reconcile = setInterval(() => {
    if (budgets.unsyncedUsd) void budgets.sync().then(() => log.info('budget spend counted during the Redis outage is in Redis again'), () => undefined);
  }, 1000);
  reconcile.unref();
  const journalDir = journalDirOf(config);
  const journal = journalDir ? FileJournal.open(journalDir, config.store.journalSync, { syncIntervalMs: config.store.journalSyncIntervalMs }) : noJournal;
  if (journal.replayed.length) log.info('replaying records left in the journal', { records: journal.replayed.length, journal: journalDir });
  const cp = config.audit.checkpoints;
  const checkpoints = cp ? new CheckpointWriter(cp.dir, loadOrCreateSigningKey(cp.keyFile), cp) : undefined;
  const sink = {
    write: async (records: readonly RequestRecord[]) => {
      const head = await store.write(records);
      try {
        checkpoints?.maybe(head);
      } catch (err) {
        log.error('audit checkpoint not written', { error: (err as Error).message });
      }
    },
  };
  const recorder = new BatchRecorder(sink, {
    intervalMs: config.store.flushIntervalMs,
    batchSize: config.store.batchSize,
    maxQueued: config.store.maxQueuedRecords,
    journal,
    onError: (err, waiting) => log.error('store write failed; records kept for retry', { error: (err as Error).message, waiting }),
    onRecovered: (written) => log.info('store writes resumed', { written, waiting: recorder.pending }),
  });
  // Replayed spend must be in the store before the budget ledger is seeded from it.
  if (journal.replayed.length) await recorder.flush().catch(() => undefined);
  const recordedSpend = () => store.spendSince(monthStart(now()));
  if (!redis) await budgets.reseed(recordedSpend);
  else {
    // A Redis that comes back empty (restarted without persistence, flushed) has forgotten the
    // month's spend: on every connection, and now, the ledger is raised to what the store recorded
    // (records queued so far written first). A Redis that kept its data is left as it is.
    const reseed = () =>
      budgets
        .reseed(async () => {
          await recorder.flush();
          return recordedSpend();
        })
        .then(
          (keys) => log.info('budget ledger in Redis checked against the store', { keys }),
          (err: Error) => log.warn('budget ledger in Redis not checked against the store; spend counted meanwhile is pushed instead', { error: err.message }),
        );
    redis.on('ready', () => void reseed());
    if (redis.status === 'ready') await reseed();
  }

  // The pipeline, outermost first: accounting wraps everything it measures; the caller is
  // authenticated on its headers before its body is read; budgets and limits are held around
  // the forward and settled once it is done.
  const pipeline = compose([
    accountStage({ config, recorder, metrics, log }),
    authenticateStage({ config, authenticator }),
    readBodyStage({ maxBodyBytes: config.maxBodyBytes }),
    parseStage(),
    routeStage({ router }),
    policyStage({ config }),
    budgetStage({ config, budgets }),
    limitsStage({ config, limits }),
    forwardStage({ retry: config.retry }),
  ]);

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const done = () => {
    if (--inFlight === 0) drained?.();
  };

  /** An error outside the request pipeline (no request id yet), answered in the client's shape. */
  const writeError = (res: ServerResponse, format: ApiFormat, err: unknown) => {
    if (!asKnownError(err)) log.error('unexpected error', { requestId: '-', stage: (err as Error)?.name, error: (err as Error)?.message });
    writeApiError(res, format, err);
  };

  /**
   * Bedrock's ListInferenceProfiles, which Claude Code calls at start-up with no credential at all
   * (it ignores a 401 and falls back to its built-in ids): answered without one, from the routing
   * table. It reveals the model ids this gateway routes, nothing about users or upstreams.
   */
  const handleProfiles = (_req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(inferenceProfilesBody(router.inferenceProfiles, query, { region: config.formats.region }));
  };

  const handleApi = (req: IncomingMessage, res: ServerResponse, route: Extract<InboundRoute, { kind: 'model' }>) => {
    const operation = route.countTokens ? 'count_tokens' : 'messages';
    const ctx: RequestContext = { id: randomUUID(), req, res, receivedAt: now(), startedAt: performance.now(), format: route.format, operation, route };
    inFlight++;
    res.setHeader('x-claude-key-request-id', ctx.id);
    void pipeline(ctx); // the account stage starts listening for the answer's end synchronously, before `done` below
    res.once('close', done);
  };

  const sendJson = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  const serveMetrics = (res: ServerResponse) => {
    metrics.pending.set(recorder.pending);
    for (const [name, u] of upstreams.byName) {
      if (!u.inFlight) continue;
      metrics.upstreamInFlight.set({ upstream: name }, u.inFlight.current);
      metrics.upstreamMaxInFlight.set({ upstream: name }, u.inFlight.max);
      metrics.upstreamOverloaded.set({ upstream: name }, u.inFlight.refused);
    }
    void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
  };

  const admin = createAdmin({
    config,
    authenticator,
    trust: trustDb,
    now,
    authenticate: (req) => authenticator.authenticate(req.headersDistinct),
    report: async (by, since) => {
      // The store being down is a 503 (try again), not an internal error.
      const unavailable = () => {
        throw dependencyUnavailable(`The usage store is unavailable (${recorder.pending} records wait to be written).`);
      };
      await recorder.flush().catch(unavailable);
      return store.report(by, since).catch(unavailable);
    },
    parseSince,
  });

  const handleConsole = config.console.enabled
    ? createConsole({
        config,
        authenticator,
        trust,
        trustDb,
        store,
        flush: () => recorder.flush(),
        pendingRecords: () => recorder.pending,
        redis,
        metrics,
        log,
        now,
      })
    : undefined;

  let closing = false;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let route: InboundRoute | undefined;
    try {
      route = matchInbound(method, url, inbound);
    } catch (err) {
      // A known path with the wrong method: refused in the shape of the client it belongs to.
      return writeError(res, formatOfPath(url, inbound), err);
    }
    if (route?.kind === 'model') return handleApi(req, res, route);
    if (route?.kind === 'inference-profiles') return handleProfiles(req, res, route.query);
    if (pathname === '/' && (method === 'HEAD' || method === 'GET')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(method === 'GET' ? 'claude-key-gateway\n' : undefined);
    if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (pathname === '/readyz') {
      return void store.query('SELECT 1').then(
        () => sendJson(res, closing ? 503 : 200, { status: closing ? 'draining' : 'ready', store: store.kind, pendingRecords: recorder.pending }),
        () => sendJson(res, 503, { status: 'store unavailable', store: store.kind, pendingRecords: recorder.pending }),
      );
    }
    // Metrics name users, teams and upstreams: on their own listener when one is configured, else for admins only.
    if (pathname === '/metrics' && method === 'GET' && config.metrics.port === undefined) {
      return void admin.requireAdmin(req).then(() => serveMetrics(res), (err) => writeError(res, 'anthropic', err));
    }
    if (admin.handle(req, res, pathname, url)) return;
    if (handleConsole?.(req, res, pathname, url)) return;
    writeError(res, formatOfPath(url, inbound), new ApiError(404, 'not_found_error', `${method} ${pathname} is not served by this gateway.`));
  };

  // A head too large for the parser spans several reads, and the error carries only the last one:
  // the request target of each connection's first read is kept to know whose shape to answer in.
  const firstTarget = new WeakMap<object, string>();
  const requestTarget = (bytes: Buffer | undefined) => (bytes ? /^[A-Z]+ (\S+) /.exec(bytes.subarray(0, 2048).toString('latin1'))?.[1] : undefined);
  /**
   * Node's HTTP parser refuses some requests before any handler runs (head over maxHeaderBytes: 431,
   * malformed: 400, headers or request too slow: 408); answered in the shape of the client the path
   * belongs to, like every other refusal.
   */
  const onClientError = (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    const busy = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent;
    if (err.code === 'ECONNRESET' || !socket.writable || busy) return void socket.destroy();
    const [status, type, message]: [number, ApiError['type'], string] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'invalid_request_error', `Request headers exceed the gateway limit of ${config.listen.maxHeaderBytes} bytes.`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'timeout_error', 'The request was not received in time.']
          : [400, 'invalid_request_error', 'Malformed HTTP request.'];
    const target = requestTarget(err.rawPacket) ?? firstTarget.get(socket);
    const rendered = renderError(target ? formatOfPath(target, inbound) : 'anthropic', new ApiError(status, type, message));
    const head = Object.entries({ ...rendered.headers, 'content-length': String(rendered.body.length), connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n`, 'latin1'), rendered.body]));
  };

  const serverOptions = {
    noDelay: true,
    keepAliveTimeout: 65_000,
    headersTimeout: config.listen.headersTimeoutMs,
    // Bounds receiving the request only; an answer streams as long as the upstream talks.
    requestTimeout: config.listen.requestTimeoutMs,
    maxHeaderSize: config.listen.maxHeaderBytes,
    // Node checks the two timeouts above only this often (default 30 s).
    connectionsCheckingInterval: Math.min(1_000, config.listen.headersTimeoutMs),
  };

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  const startServer = async (s: Server, port: number, host: string) => {
    s.on('clientError', onClientError);
    s.on('connection', (socket: Duplex) => socket.once('data', (chunk: Buffer) => {
      const target = requestTarget(chunk);
      if (target) firstTarget.set(socket, target);
    }));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, resolve);
    });
    return `http://${host.includes(':') ? `[${host}]` : host}:${(s.address() as AddressInfo).port}`;
  };
  const gateway: Gateway = {
    config,
    store,
    upstreams,
    recorder,
    metrics,
    authenticator,
    trust,
    handle,
    async listen(port = config.listen.port, host = config.listen.host) {
      server = createServer({ ...serverOptions, ServerResponse: AccountedResponse }, handle);
      const url = await startServer(server, port, host);
      if (config.metrics.port !== undefined) {
        metricsServer = createServer(serverOptions, (req, res) => {
          if ((req.url ?? '/').split('?')[0] === '/metrics' && req.method === 'GET') return serveMetrics(res);
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        });
        gateway.metricsUrl = await startServer(metricsServer, config.metrics.port, config.metrics.host);
      }
      log.info('listening', { url: `http://${host}:${(server.address() as AddressInfo).port}`, metrics: gateway.metricsUrl, store: store.kind, redis: !!redis });
      return url;
    },
    metricsUrl: undefined,
    async close() {
      closing = true;
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          // Streams get a while to finish; after that they are cut (each still gets its record),
          // so a hung stream cannot outlast the orchestrator's grace period and lose everything.
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.shutdownTimeoutMs)));
          await Promise.race([new Promise<void>((resolve) => (drained = resolve)), timedOut]);
          clearTimeout(timer);
        }
        server.closeAllConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        await closed;
      }
      const left = await recorder.close(Date.now() + config.store.closeTimeoutMs);
      if (!left && checkpoints) {
        // The newest records get their checkpoint now, not at the next start.
        const head = (await store.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1').catch(() => []))[0];
        if (head) checkpoints.maybe({ seq: Number(head.seq), hash: head.hash }, true);
      }
      if (left) {
        log.warn('the store is unavailable: records wait in the journal for the next start', { records: left, journal: recorder.journalDir ?? '(none: lost)' });
      }
      clearInterval(reconcile);
      await trust.stop();
      if (budgets.unsyncedUsd) await budgets.sync().catch(() => log.warn('budget spend counted during the Redis outage could not be pushed to Redis', { usd: budgets.unsyncedUsd }));
      await Promise.allSettled([upstreams.close(), store.close(), redis?.quit()]);
    },
  };
  return gateway;
}

/** Where the record journal lives: store.journal, else beside an on-disk store; none for memory:// unless set. */
function journalDirOf(config: GatewayConfig): string | undefined {
  const { journal, path } = config.store;
  if (journal === 'off') return undefined;
  if (journal) return journal;
  return path.startsWith('memory://') ? undefined : `${path}-journal`;
}

/** `--since` / `?since=`: an ISO date or a duration back from now like 24h, 7d; default the month so far. */
export function parseSince(value: string | null | undefined, nowMs: number): Date {
  if (!value) {
    const d = new Date(nowMs);
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  }
  // claude-key's one duration parser; a unit is required here, so a bare number is read as a date.
  const rel = /[a-z]$/.test(value) ? parseDuration(value) : undefined;
  if (rel !== undefined) return new Date(nowMs - rel);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidRequest(`since: "${value}" is neither a date nor a duration like 24h or 7d.`);
  return date;
}

const monthStart = (nowMs: number): Date => {
  const d = new Date(nowMs);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
};
