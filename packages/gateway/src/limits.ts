// Requests/min and tokens/min per user and per team (rate-limiter-flexible): memory, or Redis for replicas.
//
// Requests are counted before forwarding. Tokens are only known afterwards, so the check refuses
// a caller whose window is already spent and the answer's tokens are then added as a penalty.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from './errors.js';
import type { Scope } from './policy.js';

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly redis?: Redis) {}

  private limiter(kind: 'rpm' | 'tpm', points: number): RateLimiterAbstract {
    const key = `${kind}:${points}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const opts = { points, duration: 60, keyPrefix: `ckg:${key}` };
      limiter = this.redis
        ? new RateLimiterRedis({ ...opts, storeClient: this.redis, insuranceLimiter: new RateLimiterMemory(opts) })
        : new RateLimiterMemory(opts);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /** Throws a 429 when any scope is out of requests or tokens for this minute. */
  async check(scopes: readonly Scope[]): Promise<void> {
    for (const scope of scopes) {
      const { tokensPerMinute, requestsPerMinute } = scope.policy;
      const key = `${scope.kind}:${scope.id}`;
      if (tokensPerMinute) {
        const spent = await this.limiter('tpm', tokensPerMinute).get(key);
        if (spent && spent.consumedPoints >= tokensPerMinute) {
          throw rateLimited(`${scope.kind} "${scope.id}" used its ${tokensPerMinute} tokens per minute`, spent.msBeforeNext);
        }
      }
      if (requestsPerMinute) {
        try {
          await this.limiter('rpm', requestsPerMinute).consume(key, 1);
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) throw res;
          throw rateLimited(`${scope.kind} "${scope.id}" is over its ${requestsPerMinute} requests per minute`, res.msBeforeNext);
        }
      }
    }
  }

  async addTokens(scopes: readonly Scope[], tokens: number): Promise<void> {
    if (tokens <= 0) return;
    for (const scope of scopes) {
      const { tokensPerMinute } = scope.policy;
      if (tokensPerMinute) await this.limiter('tpm', tokensPerMinute).penalty(`${scope.kind}:${scope.id}`, tokens);
    }
  }
}
