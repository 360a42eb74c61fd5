// The innermost stage: sends the request to its deployments (with fallback) and streams the answer.
import { forward, type RetryPolicy } from '../forward.js';
import type { Stage } from '../pipeline.js';

export interface ForwardDeps {
  retry: RetryPolicy;
}

export const forwardStage = ({ retry }: ForwardDeps): Stage => ({
  name: 'forward',
  run: (ctx) => forward(ctx, retry),
});
