// The outermost stage: accounting wraps everything it measures. Whatever the stages after it do
// (answer, refuse by throwing, fail, or lose their client), the request gets exactly one record:
// usage, cost, audit and metrics. A refusal thrown by any later stage is answered here, in the
// client's format, so its answer is measured too.
//
// The record is taken when the answer is about to end, and the answer's last bytes go out only
// once the record is on disk (the journal's group-committed fsync), so an answer the client saw
// complete is never lost to a crash. An answer that never ends normally (client gone, cut at
// shutdown) is recorded when its connection closes.
//
// The end is held by the server's response class (AccountedResponse), not by a function made per
// request and put on the response: such a wrapper kept every request's objects (request, response,
// context, body) alive through the young-generation collections until the next full collection,
// ~1.1 MB promoted per scavenge at 500 req/s and scavenges of 3-5 ms on average instead of about 1
// ms (docs/benchmarks.md, "A function per request kept every request alive..."; reproduced with
// plain node:http on Node 20 and 24 by bench/response-wrapper-gc.mjs).
import { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { GatewayConfig } from '../config.js';
import type { RequestContext } from '../context.js';
import { asKnownError, writeApiError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Stage } from '../pipeline.js';
import { closeAfterAnswer } from '../receive.js';
import type { RequestRecord } from '../store/record.js';
import { emptyUsage } from '../usage/usage.js';
import { requestCost } from './budget.js';

export interface AccountDeps {
  config: Pick<GatewayConfig, 'audit'>;
  /** Takes a record; resolves once it is journaled. */
  recorder: { add(record: RequestRecord): Promise<void> };
  metrics: Metrics;
  log: Logger;
}

export const accountStage = (deps: AccountDeps): Stage => {
  const record = recordRequest(deps);
  const { log } = deps;
  /** A refusal or failure from any later stage, answered in the client's own shape. */
  const sendError = (ctx: RequestContext, err: unknown) => {
    const known = asKnownError(err);
    if (!known) log.error('unexpected error', { requestId: ctx.id, stage: (err as Error)?.name, error: (err as Error)?.message });
    // Set before the answer is written, so the record (taken as it ends) has them.
    ctx.status = known?.status ?? 500;
    ctx.errorType = known?.type ?? 'api_error';
    if (ctx.res.headersSent) return void ctx.res.destroy();
    // A refusal before the body was read (401, 413): the rest is not read, so the connection cannot be reused.
    writeApiError(ctx.res, ctx.format, err, { 'x-claude-key-request-id': ctx.id, ...closeAfterAnswer(ctx.req, ctx.res) });
  };
  return {
    name: 'account',
    async run(ctx, next) {
      const { res } = ctx;
      if (!(res instanceof AccountedResponse)) throw new TypeError('the account stage needs a server made with { ServerResponse: AccountedResponse }');
      res.accountFor = ctx;
      res.record = record;
      res.once('close', recordUnended);
      try {
        await next();
      } catch (err) {
        sendError(ctx, err);
      }
    },
  };
};

type RecordFn = ReturnType<typeof recordRequest>;

/**
 * The gateway's response: once the account stage has named its request, `end()` takes the record
 * first and lets the answer's last bytes (held with the end in one corked write) go out once the
 * record is journaled. Fields, not closures: nothing made per request outlives it (see above).
 */
export class AccountedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** The request this answer belongs to, once accounting has started. */
  accountFor: RequestContext | undefined = undefined;
  record: RecordFn | undefined = undefined;
  /** Its record has been taken (at the end, or when the connection closed first). */
  accounted = false;

  override end(...args: unknown[]): this {
    const ctx = this.accountFor;
    if (ctx === undefined || this.accounted) return endResponse(this, args);
    this.accounted = true;
    // Anything written since the last flush (a stream's last events) is held with the end, so it
    // too goes out only once the record is on disk, and in the same write; end() uncorks.
    this.cork();
    void this.record!(ctx, true).then(() => endResponse(this, args));
    return this;
  }
}

const endResponse = <R extends ServerResponse>(res: R, args: unknown[]): R =>
  (ServerResponse.prototype.end as (this: R, ...a: unknown[]) => R).apply(res, args);

/** An answer that never ended normally (client gone, cut at shutdown): recorded when its connection closes. */
function recordUnended(this: AccountedResponse) {
  if (this.accounted || this.accountFor === undefined) return;
  this.accounted = true;
  void this.record!(this.accountFor, false);
}

/** Records the request; resolves once its record is journaled. `ending`: the answer is about to end normally. */
export const recordRequest = ({ config, recorder, metrics, log }: AccountDeps) => (ctx: RequestContext, ending: boolean): Promise<void> => {
  try {
    const latencyMs = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
    const usage = ctx.usage ?? emptyUsage();
    const p = ctx.principal;
    const cost = requestCost(ctx);
    // An answer that never finished (client gone, or cut at shutdown) is 499, whatever its header said.
    const status = ending || ctx.res.writableFinished ? (ctx.status ?? ctx.res.statusCode) : 499;
    const record: RequestRecord = {
      requestId: ctx.id,
      time: new Date(ctx.receivedAt).toISOString(),
      user: p?.user ?? null,
      team: p?.team ?? null,
      credentialId: p?.credentialId ?? null,
      model: ctx.model ?? null,
      format: `${ctx.format}:${ctx.operation}`,
      upstream: ctx.upstream?.name ?? null,
      deployment: ctx.deployment ?? null,
      status,
      ...usage,
      costUsd: cost,
      latencyMs,
      clientAddress: ctx.req.socket.remoteAddress ?? null,
      userAgent: ctx.req.headers['user-agent'] ?? null,
      ...(ctx.refusal ? { refusal: ctx.refusal } : {}),
      ...(config.audit.includeContent && ctx.body ? { content: ctx.body.toString('utf8') } : {}),
    };
    const journaled = recorder.add(record);
    metrics.requests.inc({ format: ctx.format, upstream: record.upstream ?? '-', status: String(status) });
    metrics.duration.observe({ format: ctx.format, stream: String(!!ctx.stream) }, latencyMs / 1000);
    metrics.tokens.inc({ kind: 'input' }, usage.inputTokens);
    metrics.tokens.inc({ kind: 'output' }, usage.outputTokens);
    metrics.tokens.inc({ kind: 'cache_read' }, usage.cacheReadTokens);
    metrics.tokens.inc({ kind: 'cache_write' }, usage.cacheWriteTokens);
    metrics.cost.inc(cost);
    if (ctx.fellBackFrom) metrics.fallbacks.inc({ from: ctx.fellBackFrom, to: record.deployment ?? '-' });
    log.info('request', {
      requestId: ctx.id, user: record.user, team: record.team, credentialId: record.credentialId, model: record.model,
      format: record.format, upstream: record.upstream, deployment: record.deployment, status, error: ctx.errorType, latencyMs, costUsd: cost,
    });
    return journaled;
  } catch (err) {
    log.error('accounting failed', { requestId: ctx.id, error: (err as Error).message });
    return Promise.resolve();
  }
};
