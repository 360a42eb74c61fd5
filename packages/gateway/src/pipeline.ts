// The request pipeline: small named stages run in order over one RequestContext.
import type { RequestContext } from './context.js';

export interface Stage {
  readonly name: string;
  run(ctx: RequestContext): void | Promise<void>;
}

export const stage = (name: string, run: Stage['run']): Stage => ({ name, run });

/** Runs the stages in order; a stage refuses a request by throwing a GatewayError. */
export async function runStages(stages: readonly Stage[], ctx: RequestContext): Promise<void> {
  for (const s of stages) await s.run(ctx);
}
