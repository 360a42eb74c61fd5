// Rate limits around the rest of the pipeline: requests are counted and the request's worst-case
// tokens held before it goes on; the hold becomes the real tokens once it is done (zero on failure).
import type { GatewayConfig } from '../config.js';
import type { TokenHold } from '../limits.js';
import type { Stage } from '../pipeline.js';
import { scopesFor, type Scope } from '../policy.js';
import { emptyUsage, tokensUpperBound, totalTokens } from '../usage/usage.js';

export interface LimitsDeps {
  config: GatewayConfig;
  limits: {
    check(scopes: readonly Scope[], upperBound: () => number, hold: TokenHold): Promise<void>;
    settle(hold: TokenHold | undefined, tokens: number): Promise<void>;
  };
}

export const limitsStage = ({ config, limits }: LimitsDeps): Stage => ({
  name: 'limits',
  async run(ctx, next) {
    if (ctx.operation !== 'messages') return next();
    const hold: TokenHold = (ctx.tokenHold = { entries: [] });
    try {
      await limits.check(scopesFor(config, ctx.principal!), () => tokensUpperBound(ctx.canonical!.body), hold);
      await next();
    } catch (err) {
      void limits.settle(hold, 0);
      throw err;
    }
    void limits.settle(hold, totalTokens(ctx.usage ?? emptyUsage()));
  },
});
