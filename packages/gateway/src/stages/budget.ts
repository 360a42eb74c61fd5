// Budgets around the rest of the pipeline: reserve the request's worst-case cost before it goes on,
// then settle the reservation to the real cost once it is done, or release it (settle to zero) when
// anything after it refuses or fails.
import type { BudgetHold } from '../budgets.js';
import type { GatewayConfig } from '../config.js';
import type { RequestContext } from '../context.js';
import type { Stage } from '../pipeline.js';
import { scopesFor, type Scope } from '../policy.js';
import { costUpperBound, costUsd, emptyUsage } from '../usage/usage.js';

export interface BudgetDeps {
  config: GatewayConfig;
  budgets: {
    reserve(scopes: readonly Scope[], upperBound: () => number): Promise<BudgetHold | undefined>;
    settle(hold: BudgetHold | undefined, usd: number): Promise<void>;
  };
}

/** What the request cost, from the usage read so far (zero for a refusal or a failure before any answer). */
export const requestCost = (ctx: RequestContext): number =>
  ctx.model && ctx.operation === 'messages' ? costUsd(ctx.model, ctx.usage ?? emptyUsage()) : 0;

export const budgetStage = ({ config, budgets }: BudgetDeps): Stage => ({
  name: 'budget',
  async run(ctx, next) {
    if (ctx.operation !== 'messages') return next();
    const hold = (ctx.budgetHold = await budgets.reserve(scopesFor(config, ctx.principal!), () => costUpperBound(ctx.model!, ctx.canonical!.body)));
    try {
      await next();
    } catch (err) {
      void budgets.settle(hold, 0);
      throw err;
    }
    void budgets.settle(hold, requestCost(ctx));
  },
});
