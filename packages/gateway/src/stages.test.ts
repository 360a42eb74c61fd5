// The pipeline's stages alone: compose's order and errors, the budget stage's reserve/settle/
// release around next(), and accounting that wraps the stages after it (exactly one record each).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ApiError } from '@claude-key/api-formats';
import type { BudgetHold } from './budgets.js';
import { parseConfig } from './config.js';
import type { RequestContext } from './context.js';
import { GatewayError, permissionError, rateLimited, toApiError } from './errors.js';
import type { Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { compose, stage, type Stage } from './pipeline.js';
import { AccountedResponse, accountStage } from './stages/account.js';
import { budgetStage, requestCost } from './stages/budget.js';
import type { RequestRecord } from './store/record.js';

const fakeCtx = (extra: Partial<RequestContext> = {}) => ({ id: 'r1', operation: 'messages', format: 'anthropic', ...extra }) as RequestContext;
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

describe('compose', () => {
  it('runs stages in order, each around the rest', async () => {
    const seen: string[] = [];
    const around = (name: string): Stage =>
      stage(name, async (_ctx, next) => {
        seen.push(`${name} before`);
        await next();
        seen.push(`${name} after`);
      });
    await compose([around('a'), around('b'), stage('c', () => void seen.push('c'))])(fakeCtx());
    assert.deepEqual(seen, ['a before', 'b before', 'c', 'b after', 'a after']);
  });

  it('a stage that throws skips the rest and rejects through the stages before it', async () => {
    const seen: string[] = [];
    const refused = permissionError('no');
    const run = compose([
      stage('outer', async (_ctx, next) => {
        try {
          await next();
        } catch (err) {
          seen.push(`caught ${(err as Error).message}`);
          throw err;
        }
      }),
      stage('refuse', () => {
        throw refused;
      }),
      stage('never', () => void seen.push('never')),
    ]);
    await assert.rejects(run(fakeCtx()), (err) => err === refused);
    assert.deepEqual(seen, ['caught no']);
  });

  it('a stage that does not call next() ends the pipeline there', async () => {
    const seen: string[] = [];
    await compose([stage('answer', () => void seen.push('answer')), stage('never', () => void seen.push('never'))])(fakeCtx());
    assert.deepEqual(seen, ['answer']);
  });

  it('calling next() twice is an error', async () => {
    let inner = 0;
    const run = compose([
      stage('twice', async (_ctx, next) => {
        await next();
        await next();
      }),
      stage('inner', () => void inner++),
    ]);
    await assert.rejects(run(fakeCtx()), /next\(\) called twice in stage "twice"/);
    assert.equal(inner, 1);
  });

  it('each run of a composed pipeline is independent', async () => {
    let count = 0;
    const run = compose([stage('count', () => void count++)]);
    await run(fakeCtx());
    await run(fakeCtx());
    assert.equal(count, 2);
  });
});

describe('errors: one family', () => {
  it('a GatewayError is an ApiError, with retry-after carried both ways', () => {
    const err = rateLimited('too many', 2500);
    assert.ok(err instanceof ApiError);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.retryAfter, 3);
    assert.equal(err.headers['retry-after'], '3');
    assert.equal(toApiError(err), err);
    const unknown = toApiError(new Error('secret detail'));
    assert.equal(unknown.status, 500);
    assert.equal(unknown.message, 'Internal gateway error.');
  });
});

describe('budget stage', () => {
  const config = parseConfig({ upstreams: { mock: { type: 'mock' } }, routes: [{ model: '*', upstream: 'mock' }] });
  const principal = { user: 'ada', team: 'eng', credentialId: 'k1' } as RequestContext['principal'];
  const fakeBudgets = () => {
    const calls: string[] = [];
    const hold = { id: 'hold' } as unknown as BudgetHold;
    return {
      calls,
      hold,
      budgets: {
        reserve: async () => (calls.push('reserve'), hold),
        settle: async (h: BudgetHold | undefined, usd: number) => void calls.push(`settle ${h === hold ? 'hold' : String(h)} ${usd}`),
      },
    };
  };
  const messagesCtx = () =>
    fakeCtx({ principal, model: 'claude-sonnet-4-5', canonical: { model: 'claude-sonnet-4-5', body: Buffer.from('{"max_tokens":10}') } as RequestContext['canonical'] });

  it('reserves before next(), then settles to the real cost', async () => {
    const { calls, budgets, hold } = fakeBudgets();
    const ctx = messagesCtx();
    const usage = { inputTokens: 1000, outputTokens: 200, cacheReadTokens: 0, cacheWriteTokens: 0 };
    await compose([
      budgetStage({ config, budgets }),
      stage('forward', (c) => {
        calls.push('forward');
        c.usage = usage;
      }),
    ])(ctx);
    assert.equal(ctx.budgetHold, hold);
    const cost = requestCost(ctx);
    assert.ok(cost > 0);
    assert.deepEqual(calls, ['reserve', 'forward', `settle hold ${cost}`]);
  });

  it('releases the reservation (settles to zero) when a later stage fails, and passes the error on', async () => {
    const { calls, budgets } = fakeBudgets();
    const failure = new ApiError(502, 'api_error', 'upstream down');
    await assert.rejects(
      compose([
        budgetStage({ config, budgets }),
        stage('forward', () => {
          throw failure;
        }),
      ])(messagesCtx()),
      (err) => err === failure,
    );
    assert.deepEqual(calls, ['reserve', 'settle hold 0']);
  });

  it('a refused reservation stops the pipeline before the later stages', async () => {
    let forwarded = false;
    const refused = permissionError('over budget');
    const budgets = { reserve: async () => Promise.reject(refused), settle: async () => assert.fail('nothing to settle') };
    await assert.rejects(compose([budgetStage({ config, budgets }), stage('forward', () => void (forwarded = true))])(messagesCtx()), (err) => err === refused);
    assert.equal(forwarded, false);
  });

  it('count_tokens reserves nothing', async () => {
    const { calls, budgets } = fakeBudgets();
    await compose([budgetStage({ config, budgets }), stage('forward', () => void calls.push('forward'))])({ ...messagesCtx(), operation: 'count_tokens' });
    assert.deepEqual(calls, ['forward']);
  });
});

describe('account stage', () => {
  const config = parseConfig({ upstreams: { mock: { type: 'mock' } }, routes: [{ model: '*', upstream: 'mock' }] });

  /** A server whose every request runs accounting around `inner`; the records it took, and a gate on journaling. */
  async function serve(inner: Stage[]) {
    const records: RequestRecord[] = [];
    let journal: () => Promise<void> = () => Promise.resolve();
    const recorder = {
      add: (r: RequestRecord) => {
        records.push(r);
        return journal();
      },
    };
    const run = compose([accountStage({ config, recorder, metrics: createMetrics(), log: silent }), ...inner]);
    const server = createServer({ ServerResponse: AccountedResponse }, (req: IncomingMessage, res: ServerResponse) => {
      const ctx = {
        id: `req-${records.length}`, req, res, receivedAt: Date.now(), startedAt: performance.now(),
        format: 'anthropic', operation: 'messages', route: { kind: 'model', format: 'anthropic' },
      } as unknown as RequestContext;
      void run(ctx);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url,
      records,
      gate: (fn: () => Promise<void>) => (journal = fn),
      close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
  }

  it('a stage that refuses still yields exactly one record, with the refusal answered in the client shape', async () => {
    const s = await serve([stage('refuse', () => Promise.reject(permissionError('Model "x" is not allowed.')))]);
    try {
      const res = await fetch(`${s.url}/v1/messages`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { type: 'error', error: { type: 'permission_error', message: 'Model "x" is not allowed.' } });
      assert.ok(res.headers.get('x-claude-key-request-id'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(s.records.length, 1);
      assert.equal(s.records[0]!.status, 403);
    } finally {
      await s.close();
    }
  });

  it('a stage that throws something unexpected: a 500 that reveals nothing, and exactly one record', async () => {
    const s = await serve([
      stage('bug', () => {
        throw new TypeError('secret internals');
      }),
    ]);
    try {
      const res = await fetch(`${s.url}/v1/messages`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 500);
      assert.doesNotMatch(await res.text(), /secret/);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(s.records.length, 1);
      assert.equal(s.records[0]!.status, 500);
    } finally {
      await s.close();
    }
  });

  it('an answer ends only once its record is journaled', async () => {
    let release!: () => void;
    const s = await serve([
      stage('answer', (ctx) => {
        ctx.status = 200;
        ctx.res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }),
    ]);
    s.gate(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      let done = false;
      const answer = fetch(`${s.url}/v1/messages`, { method: 'POST', body: '{}' }).then(async (res) => {
        const text = await res.text();
        done = true;
        return text;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(s.records.length, 1);
      assert.equal(done, false, 'the answer waited for its record');
      release();
      assert.equal(await answer, '{"ok":true}');
      assert.equal(s.records.length, 1);
      assert.equal(s.records[0]!.status, 200);
    } finally {
      await s.close();
    }
  });

  it('refuses to run on a response that cannot hold its end (a server made without AccountedResponse)', async () => {
    const account = accountStage({ config, recorder: { add: () => Promise.resolve() }, metrics: createMetrics(), log: silent });
    const { ServerResponse: PlainResponse, IncomingMessage: PlainRequest } = await import('node:http');
    const { Socket } = await import('node:net');
    const req = new PlainRequest(new Socket());
    const ctx = { id: 'r', req, res: new PlainResponse(req) } as unknown as RequestContext;
    let ran = false;
    await assert.rejects(async () => account.run(ctx, async () => void (ran = true)), /AccountedResponse/);
    assert.equal(ran, false, 'nothing after accounting ran unaccounted');
  });

  it('a client that leaves mid-answer gets one record, as 499', async () => {
    let ctxSeen: RequestContext | undefined;
    const s = await serve([
      stage('stream', (ctx) => {
        ctxSeen = ctx;
        ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
        ctx.res.write('event: ping\ndata: {}\n\n');
        return new Promise<void>((resolve) => ctx.res.once('close', () => resolve()));
      }),
    ]);
    try {
      const abort = new AbortController();
      const res = await fetch(`${s.url}/v1/messages`, { method: 'POST', body: '{}', signal: abort.signal });
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(ctxSeen);
      assert.equal(s.records.length, 1);
      assert.equal(s.records[0]!.status, 499);
    } finally {
      await s.close();
    }
  });
});
