// The request pipeline: named stages composed like hono's middleware. Each stage gets the request's
// one RequestContext and a `next()` that runs the rest of the pipeline, so a stage can act before
// it (refuse by throwing), after it (settle what it reserved, record what it measured), or around
// it (try/catch/finally).
import type { RequestContext } from './context.js';

export type Next = () => Promise<void>;

export interface Stage {
  readonly name: string;
  run(ctx: RequestContext, next: Next): void | Promise<void>;
}

export const stage = (name: string, run: Stage['run']): Stage => ({ name, run });

/**
 * A stage that only acts before the rest of the pipeline, then always goes on. One that finished
 * synchronously (parse, route, policy) goes straight on, without an async function's promise and
 * microtask for every request.
 */
export const before = (name: string, run: (ctx: RequestContext) => void | Promise<void>): Stage =>
  stage(name, (ctx, next) => {
    const done = run(ctx);
    return done === undefined ? next() : done.then(next);
  });

/**
 * Composes stages into one function: the first stage runs first and decides when (and whether)
 * the rest run by calling `next()`. A stage calling `next()` twice is a bug and rejects.
 */
export function compose(stages: readonly Stage[]): (ctx: RequestContext) => Promise<void> {
  return (ctx) => {
    let last = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= last) return Promise.reject(new Error(`pipeline: next() called twice in stage "${stages[i - 1]?.name}"`));
      last = i;
      const s = stages[i];
      if (!s) return Promise.resolve();
      try {
        return Promise.resolve(s.run(ctx, () => dispatch(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
