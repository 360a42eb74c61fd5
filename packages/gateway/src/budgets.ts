// Spend per user and team per UTC day and month in USD: reserved before forwarding, settled after.
//
// Before a request is forwarded, an upper bound of its cost is reserved on every budget it is
// under, in one atomic step (a Lua script in Redis, so replicas share one ledger; a map in
// memory otherwise). A request is admitted while the budget's spend, reservations included, is
// below the limit, so spend can pass a budget by at most one request's cost. Once the answer is
// done the reservation is replaced by the real cost (zero if it failed).
//
// Redis unavailable: a scope with failMode `closed` is refused with 503; with `open` (the
// default) spend is counted in process on top of the last values Redis gave, and pushed to Redis
// when it answers again. Redis back empty (restarted without persistence, flushed): the spend the
// store recorded is put back (`reseed`), on every connection.
import type { Redis } from 'ioredis';
import { dependencyUnavailable, permissionError } from './errors.js';
import type { Scope } from './policy.js';

export interface Period {
  kind: 'daily' | 'monthly';
  key: string;
  resetsAt: Date;
}

export function periodsAt(nowMs: number): Period[] {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.toISOString().slice(0, 10);
  return [
    { kind: 'daily', key: `d:${day}`, resetsAt: new Date(Date.UTC(y, m, d.getUTCDate() + 1)) },
    { kind: 'monthly', key: `m:${day.slice(0, 7)}`, resetsAt: new Date(Date.UTC(y, m + 1, 1)) },
  ];
}

/** Spent amounts per key, and the first key whose limit was already reached (then nothing was added). */
export interface ReserveResult {
  spent: number[];
  refused?: number;
}

export interface SpendLedger {
  /** Atomically: unless some key is at or over its limit (undefined = none), adds usd to every key. */
  reserve(keys: string[], limits: (number | undefined)[], usd: number, ttlSeconds: number[]): Promise<ReserveResult>;
  /** Adds usd (negative to give back) to every key. */
  add(keys: string[], usd: number, ttlSeconds: number[]): Promise<void>;
  /** Raises each key to at least its amount, never lowering one (seeding from the store). */
  raiseTo(keys: string[], usd: number[], ttlSeconds: number[]): Promise<void>;
}

/** Spend the store recorded for one user or team on one UTC day. */
export interface RecordedSpend {
  kind: 'user' | 'team';
  id: string;
  /** YYYY-MM-DD */
  day: string;
  usd: number;
}

export class MemoryLedger implements SpendLedger {
  private readonly spend = new Map<string, { usd: number; expiresAt: number }>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): number {
    return this.spend.get(key)?.usd ?? 0;
  }

  async reserve(keys: string[], limits: (number | undefined)[], usd: number, ttlSeconds: number[]): Promise<ReserveResult> {
    const spent = keys.map((k) => this.get(k));
    const refused = spent.findIndex((s, i) => limits[i] !== undefined && s >= limits[i]!);
    if (refused !== -1) return { spent, refused };
    this.addNow(keys, usd, ttlSeconds);
    return { spent };
  }

  async add(keys: string[], usd: number, ttlSeconds: number[]): Promise<void> {
    this.addNow(keys, usd, ttlSeconds);
  }

  async raiseTo(keys: string[], usd: number[], ttlSeconds: number[]): Promise<void> {
    const now = this.now();
    keys.forEach((k, i) => {
      const entry = this.spend.get(k);
      if (!entry) this.spend.set(k, { usd: usd[i]!, expiresAt: now + ttlSeconds[i]! * 1000 });
      else entry.usd = Math.max(entry.usd, usd[i]!);
    });
  }

  addNow(keys: string[], usd: number, ttlSeconds: number[]): void {
    const now = this.now();
    keys.forEach((k, i) => {
      const entry = this.spend.get(k);
      if (entry) entry.usd += usd;
      else this.spend.set(k, { usd, expiresAt: now + ttlSeconds[i]! * 1000 });
    });
    // Past days and months would otherwise pile up for as long as the process runs.
    if (now >= this.nextSweep) {
      for (const [k, entry] of this.spend) if (entry.expiresAt <= now) this.spend.delete(k);
      this.nextSweep = now + 3_600_000;
    }
  }
}

// KEYS: ledger keys. ARGV: usd, then one limit per key (-1: none), then one TTL per key.
// Returns the refused key's 1-based index (0: reserved) followed by every key's spend before it.
const RESERVE_SCRIPT = `
local n = #KEYS
local out = {0}
for i = 1, n do
  local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
  out[i + 1] = tostring(spent)
  local limit = tonumber(ARGV[1 + i])
  if out[1] == 0 and limit >= 0 and spent >= limit then out[1] = i end
end
if out[1] == 0 then
  for i = 1, n do
    redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[1 + n + i])
  end
end
return out`;

// KEYS: ledger keys. ARGV: one amount per key, then one TTL per key. A key below its amount is set
// to it (with its TTL); one at or above it (spend since, reservations in flight) is left as it is.
const RAISE_SCRIPT = `
local n = #KEYS
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') < tonumber(ARGV[i]) then
    redis.call('SET', KEYS[i], ARGV[i], 'EX', ARGV[n + i])
  end
end
return n`;

type ReserveCommand = (numKeys: number, ...args: (string | number)[]) => Promise<[number, ...string[]]>;
type RaiseCommand = (numKeys: number, ...args: (string | number)[]) => Promise<number>;

export class RedisLedger implements SpendLedger {
  constructor(private readonly redis: Redis) {
    if (!(redis as unknown as { ckgReserve?: unknown }).ckgReserve) redis.defineCommand('ckgReserve', { lua: RESERVE_SCRIPT });
    if (!(redis as unknown as { ckgRaise?: unknown }).ckgRaise) redis.defineCommand('ckgRaise', { lua: RAISE_SCRIPT });
  }

  async raiseTo(keys: string[], usd: number[], ttlSeconds: number[]): Promise<void> {
    if (!keys.length) return;
    const command = (this.redis as unknown as { ckgRaise: RaiseCommand }).ckgRaise.bind(this.redis);
    await command(keys.length, ...keys.map((k) => `ckg:spend:${k}`), ...usd.map(String), ...ttlSeconds);
  }

  async reserve(keys: string[], limits: (number | undefined)[], usd: number, ttlSeconds: number[]): Promise<ReserveResult> {
    const command = (this.redis as unknown as { ckgReserve: ReserveCommand }).ckgReserve.bind(this.redis);
    const [refused, ...spent] = await command(keys.length, ...keys.map((k) => `ckg:spend:${k}`), usd, ...limits.map((l) => l ?? -1), ...ttlSeconds);
    return { spent: spent.map(Number), ...(Number(refused) ? { refused: Number(refused) - 1 } : {}) };
  }

  async add(keys: string[], usd: number, ttlSeconds: number[]): Promise<void> {
    const multi = this.redis.multi();
    keys.forEach((k, i) => multi.incrbyfloat(`ckg:spend:${k}`, usd).expire(`ckg:spend:${k}`, ttlSeconds[i]!));
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }
}

/** Dollars as people read them: cents for real budgets, significant digits for tiny test ones. */
const usd = (n: number) => `$${n >= 1 || n === 0 ? n.toFixed(2) : Number(n.toPrecision(2)).toString()}`;

const hasBudget = (scope: Scope) => scope.policy.dailyUsd !== undefined || scope.policy.monthlyUsd !== undefined;

const limitOf = (scope: Scope, period: Period) => (period.kind === 'daily' ? scope.policy.dailyUsd : scope.policy.monthlyUsd);

export type FailMode = 'open' | 'closed';

/** What a request holds on its budgets between forwarding and settling. */
export interface BudgetHold {
  readonly keys: string[];
  readonly ttls: number[];
  readonly usd: number;
  /** Reserved in process because the shared ledger was unavailable. */
  readonly local: boolean;
}

export interface BudgetOptions {
  /** Per scope when the shared ledger fails; default `open`. */
  failMode?: (scope: Scope) => FailMode;
  onLedgerError?: (err: Error) => void;
}

export class Budgets {
  /** Spend counted in process while the shared ledger was unavailable (unsynced plus local reservations). */
  private readonly local: MemoryLedger;
  /** Settled amounts per key not yet in the shared ledger. */
  private readonly unsynced = new Map<string, { usd: number; ttl: number }>();
  /** The shared ledger's last answer per key, the base of in-process counting. */
  private readonly lastKnown = new Map<string, number>();
  private syncing: Promise<void> | undefined;
  /** Reseeds under way (see reseed). */
  private reseeding = 0;

  constructor(
    readonly ledger: SpendLedger,
    private readonly now: () => number,
    private readonly opts: BudgetOptions = {},
  ) {
    this.local = new MemoryLedger(now);
  }

  /**
   * Reserves `upperBoundUsd` on every budget of these scopes. Throws a 403 naming an exhausted
   * budget and when it resets, or a 503 when the ledger is down and a scope fails closed.
   */
  async reserve(scopes: readonly Scope[], upperBound: () => number): Promise<BudgetHold | undefined> {
    if (!scopes.some(hasBudget)) return undefined;
    const periods = periodsAt(this.now());
    const checks = scopes.flatMap((scope) => periods.filter((p) => limitOf(scope, p)).map((period) => ({ scope, period })));
    if (!checks.length) return undefined;
    const keys = checks.map((c) => `${c.scope.kind}:${c.scope.id}:${c.period.key}`);
    const limits = checks.map((c) => limitOf(c.scope, c.period));
    const ttls = checks.map((c) => Math.ceil((c.period.resetsAt.getTime() - this.now()) / 1000) + 3600);
    const upperBoundUsd = upperBound();
    let result: ReserveResult;
    let local = false;
    try {
      // Not while a reseed runs (a flush and a store query): it covers this spend, and requests need not wait for it.
      if (this.unsynced.size && this.reseeding === 0) await this.sync();
      result = await this.ledger.reserve(keys, limits, upperBoundUsd, ttls);
      keys.forEach((k, i) => this.lastKnown.set(k, result.spent[i]!));
    } catch (err) {
      this.opts.onLedgerError?.(err as Error);
      const closed = checks.find((c) => (this.opts.failMode?.(c.scope) ?? 'open') === 'closed');
      if (closed) {
        throw dependencyUnavailable(`The budget ledger is unavailable and the budget of ${closed.scope.kind} "${closed.scope.id}" fails closed.`);
      }
      local = true;
      const base = keys.map((k) => this.lastKnown.get(k) ?? 0);
      result = await this.local.reserve(keys, limits.map((l, i) => (l === undefined ? undefined : l - base[i]!)), upperBoundUsd, ttls);
      result = { ...result, spent: result.spent.map((s, i) => s + base[i]!) };
    }
    if (result.refused !== undefined) {
      const { scope, period } = checks[result.refused]!;
      const limit = limits[result.refused]!;
      const spent = result.spent[result.refused]!;
      throw permissionError(
        `The ${period.kind} budget of ${scope.kind} "${scope.id}" is exhausted (${usd(spent)} of ${usd(limit)} spent); ` +
          `it resets at ${period.resetsAt.toISOString()}.`,
      );
    }
    return { keys, ttls, usd: upperBoundUsd, local };
  }

  /** Replaces a reservation by the real cost. Never throws: a failed update is kept and pushed later. */
  async settle(hold: BudgetHold | undefined, actualUsd: number): Promise<void> {
    if (!hold) return;
    const delta = actualUsd - hold.usd;
    if (!hold.local) {
      try {
        if (delta !== 0) await this.ledger.add(hold.keys, delta, hold.ttls);
        return;
      } catch (err) {
        this.opts.onLedgerError?.(err as Error);
        // The reservation stays in the shared ledger; only the difference waits (counted here meanwhile).
        this.local.addNow(hold.keys, delta, hold.ttls);
        return this.keep(hold.keys, delta, hold.ttls);
      }
    }
    this.local.addNow(hold.keys, delta, hold.ttls);
    this.keep(hold.keys, actualUsd, hold.ttls);
  }

  private keep(keys: string[], usdDelta: number, ttls: number[]): void {
    keys.forEach((k, i) => {
      const entry = this.unsynced.get(k);
      if (entry) entry.usd += usdDelta;
      else this.unsynced.set(k, { usd: usdDelta, ttl: ttls[i]! });
    });
  }

  /** Pushes spend counted in process to the shared ledger (reconciliation after an outage). */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        for (const [key, { usd: amount, ttl }] of [...this.unsynced]) {
          await this.ledger.add([key], amount, [ttl]);
          this.unsynced.delete(key);
          this.local.addNow([key], -amount, [ttl]);
          this.lastKnown.set(key, (this.lastKnown.get(key) ?? 0) + amount);
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /**
   * Raises the ledger to the spend the store has recorded this month: at start-up (the in-memory
   * ledger starts empty), and with Redis on every connection (a Redis that came back empty has
   * forgotten it; one that kept it, with reservations of answers in flight on top, is left as it
   * is). `recorded` must flush the records queued so far before it reads them: the spend
   * counted in process until now belongs to answers whose records are queued already, so the store
   * has it too, and it is not pushed a second time (this also drops a settle's difference whose
   * reservation an emptied Redis no longer holds). Runs in the place of a sync, never beside one.
   * Resolves with the number of keys looked at.
   */
  reseed(recorded: () => Promise<readonly RecordedSpend[]>): Promise<number> {
    this.reseeding++;
    const run = (this.syncing ?? Promise.resolve()).catch(() => undefined).then(async () => {
      const covered = [...this.unsynced].map(([key, entry]) => ({ key, usd: entry.usd, ttl: entry.ttl }));
      const nowMs = this.now();
      const totals = new Map<string, { usd: number; ttl: number }>();
      for (const row of await recorded()) {
        const { keys, ttls } = this.keysAt([{ kind: row.kind, id: row.id }], Date.parse(`${row.day}T12:00:00Z`), nowMs);
        keys.forEach((key, i) => {
          const total = totals.get(key);
          if (total) total.usd += row.usd;
          else if (ttls[i]! > 0) totals.set(key, { usd: row.usd, ttl: ttls[i]! });
        });
      }
      const keys = [...totals.keys()];
      await this.ledger.raiseTo(keys, keys.map((k) => totals.get(k)!.usd), keys.map((k) => totals.get(k)!.ttl));
      for (const { key, usd: amount, ttl } of covered) {
        const entry = this.unsynced.get(key);
        if (entry) entry.usd -= amount;
        if (entry && Math.abs(entry.usd) < 1e-12) this.unsynced.delete(key);
        this.local.addNow([key], -amount, [ttl]);
      }
      return keys.length;
    });
    const slot: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    );
    this.syncing = slot;
    void slot.finally(() => {
      if (this.syncing === slot) this.syncing = undefined;
      this.reseeding--;
    });
    return run;
  }

  /** Spend not yet in the shared ledger, in USD (what reconciliation still has to push). */
  get unsyncedUsd(): number {
    let n = 0;
    for (const { usd: amount } of this.unsynced.values()) n += amount;
    return n;
  }

  /** The ledger keys of these scopes for the day and month of `atMs`, each kept an hour past its reset (seen from `fromMs`). */
  private keysAt(scopes: readonly Pick<Scope, 'kind' | 'id'>[], atMs: number, fromMs: number): { keys: string[]; ttls: number[] } {
    const periods = periodsAt(atMs);
    const keys: string[] = [];
    const ttls: number[] = [];
    for (const scope of scopes) {
      for (const period of periods) {
        keys.push(`${scope.kind}:${scope.id}:${period.key}`);
        ttls.push(Math.ceil((period.resetsAt.getTime() - fromMs) / 1000) + 3600);
      }
    }
    return { keys, ttls };
  }
}
