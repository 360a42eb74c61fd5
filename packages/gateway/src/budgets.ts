// Spend per user and team per UTC day and month in USD, checked before forwarding.
//
// The ledger lives in memory, seeded from the store at start-up, or in Redis (INCRBYFLOAT on
// keys that expire after their period) so that replicas share one budget.
import type { Redis } from 'ioredis';
import { permissionError } from './errors.js';
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

export interface SpendLedger {
  get(keys: string[]): Promise<number[]>;
  add(keys: string[], usd: number, ttlSeconds: number[]): Promise<void>;
}

export class MemoryLedger implements SpendLedger {
  private readonly spend = new Map<string, { usd: number; expiresAt: number }>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async get(keys: string[]) {
    return keys.map((k) => this.spend.get(k)?.usd ?? 0);
  }

  async add(keys: string[], usd: number, ttlSeconds: number[]) {
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

export class RedisLedger implements SpendLedger {
  constructor(private readonly redis: Redis) {}
  async get(keys: string[]) {
    if (!keys.length) return [];
    return (await this.redis.mget(keys.map((k) => `ckg:spend:${k}`))).map((v) => Number(v ?? 0));
  }
  async add(keys: string[], usd: number, ttlSeconds: number[]) {
    const multi = this.redis.multi();
    keys.forEach((k, i) => multi.incrbyfloat(`ckg:spend:${k}`, usd).expire(`ckg:spend:${k}`, ttlSeconds[i]!));
    await multi.exec();
  }
}

/** Dollars as people read them: cents for real budgets, significant digits for tiny test ones. */
const usd = (n: number) => `$${n >= 1 || n === 0 ? n.toFixed(2) : Number(n.toPrecision(2)).toString()}`;

const hasBudget = (scope: Scope) => scope.policy.dailyUsd !== undefined || scope.policy.monthlyUsd !== undefined;

const limitOf = (scope: Scope, period: Period) => (period.kind === 'daily' ? scope.policy.dailyUsd : scope.policy.monthlyUsd);

export class Budgets {
  constructor(readonly ledger: SpendLedger, private readonly now: () => number) {}

  /** Throws a 403 naming the exhausted budget and when it resets. */
  async check(scopes: readonly Scope[]): Promise<void> {
    if (!scopes.some(hasBudget)) return;
    const periods = periodsAt(this.now());
    const checks = scopes.flatMap((scope) => periods.filter((p) => limitOf(scope, p)).map((period) => ({ scope, period })));
    if (!checks.length) return;
    const spent = await this.ledger.get(checks.map((c) => `${c.scope.kind}:${c.scope.id}:${c.period.key}`));
    checks.forEach(({ scope, period }, i) => {
      const limit = limitOf(scope, period)!;
      if (spent[i]! >= limit) {
        throw permissionError(
          `The ${period.kind} budget of ${scope.kind} "${scope.id}" is exhausted (${usd(spent[i]!)} of ${usd(limit)} spent); ` +
            `it resets at ${period.resetsAt.toISOString()}.`,
        );
      }
    });
  }

  /** Records spend; only for scopes with a budget, unless `always` (seeding from the store). */
  async add(scopes: readonly Scope[], usd: number, atMs: number, always = false): Promise<void> {
    scopes = always ? scopes : scopes.filter(hasBudget);
    if (usd <= 0 || !scopes.length) return;
    const periods = periodsAt(atMs);
    const keys: string[] = [];
    const ttls: number[] = [];
    for (const scope of scopes) {
      for (const period of periods) {
        keys.push(`${scope.kind}:${scope.id}:${period.key}`);
        ttls.push(Math.ceil((period.resetsAt.getTime() - atMs) / 1000) + 3600);
      }
    }
    await this.ledger.add(keys, usd, ttls);
  }
}
