// Requests/min and tokens/min per user and per team (rate-limiter-flexible): memory, or Redis for replicas.
//
// Requests are counted before forwarding. For tokens, an upper bound of the request's tokens is
// reserved before forwarding (admitted while the minute's count was below the limit, so one
// request at most passes it) and replaced by the real count once the answer is done.
//
// Redis unavailable: a scope with failMode `open` (the default) is counted in process
// (rate-limiter-flexible's insurance limiter); `closed` refuses with 503.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { FailMode } from './budgets.js';
import { dependencyUnavailable, rateLimited } from './errors.js';
import type { Scope } from './policy.js';

/** Tokens reserved per limiter key, filled in as scopes are checked so a refusal half-way still settles. */
export interface TokenHold {
  entries: { limiter: RateLimiterAbstract; key: string; points: number }[];
}

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis?: Redis,
    private readonly opts: { failMode?: (scope: Scope) => FailMode; onError?: (err: Error) => void } = {},
  ) {}

  private limiter(kind: 'rpm' | 'tpm', points: number, failMode: FailMode): RateLimiterAbstract {
    const id = `${kind}:${points}:${failMode}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      // One key prefix for both modes: scopes that differ only in failMode still share a count.
      const opts = { points, duration: 60, keyPrefix: `ckg:${kind}:${points}` };
      limiter = this.redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: this.redis,
            rejectIfRedisNotReady: true,
            ...(failMode === 'open' ? { insuranceLimiter: new RateLimiterMemory(opts) } : {}),
          })
        : new RateLimiterMemory(opts);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  private unavailable(scope: Scope, err: unknown): never {
    this.opts.onError?.(err as Error);
    throw dependencyUnavailable(`The rate limiter is unavailable and the limits of ${scope.kind} "${scope.id}" fail closed.`);
  }

  /**
   * Throws a 429 when any scope is out of requests or tokens for this minute; reserves
   * `upperTokens` on each tokens-per-minute limit into `hold`.
   */
  async check(scopes: readonly Scope[], upperTokens: () => number, hold: TokenHold): Promise<void> {
    for (const scope of scopes) {
      const { tokensPerMinute, requestsPerMinute } = scope.policy;
      const key = `${scope.kind}:${scope.id}`;
      const failMode = this.opts.failMode?.(scope) ?? 'open';
      if (tokensPerMinute) {
        const limiter = this.limiter('tpm', tokensPerMinute, failMode);
        const points = Math.max(1, Math.ceil(upperTokens()));
        try {
          await limiter.consume(key, points);
          hold.entries.push({ limiter, key, points });
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) this.unavailable(scope, res);
          if (res.consumedPoints - points < tokensPerMinute) {
            hold.entries.push({ limiter, key, points }); // the minute was below its limit: admitted
          } else {
            await limiter.reward(key, points).catch(() => undefined);
            throw rateLimited(`${scope.kind} "${scope.id}" used its ${tokensPerMinute} tokens per minute`, res.msBeforeNext);
          }
        }
      }
      if (requestsPerMinute) {
        try {
          await this.limiter('rpm', requestsPerMinute, failMode).consume(key, 1);
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) this.unavailable(scope, res);
          throw rateLimited(`${scope.kind} "${scope.id}" is over its ${requestsPerMinute} requests per minute`, res.msBeforeNext);
        }
      }
    }
  }

  /** Replaces each reservation by the tokens the answer really used. Never throws. */
  async settle(hold: TokenHold | undefined, tokens: number): Promise<void> {
    for (const { limiter, key, points } of hold?.entries ?? []) {
      const delta = tokens - points;
      try {
        if (delta < 0) await limiter.reward(key, -delta);
        else if (delta > 0) await limiter.penalty(key, delta);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    }
  }
}
