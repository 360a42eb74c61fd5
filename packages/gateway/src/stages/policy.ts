// Whether the caller may use the model at all.
import { canonicalModelKey } from '@claude-key/api-formats';
import type { GatewayConfig } from '../config.js';
import { permissionError } from '../errors.js';
import { before, type Stage } from '../pipeline.js';
import { allowedModels, globMatch } from '../policy.js';

export interface PolicyDeps {
  config: GatewayConfig;
}

export const policyStage = ({ config }: PolicyDeps): Stage =>
  before('policy', (ctx) => {
    const p = ctx.principal!;
    // Policies name models once: the group name or the canonical key both match, whatever spelling the client used.
    const names = [ctx.model!, canonicalModelKey(ctx.canonical!.model)];
    if (!allowedModels(config, p).some((pattern) => names.some((name) => globMatch(pattern, name)))) {
      throw permissionError(`Model "${ctx.model}" is not allowed for user "${p.user}" of team "${p.team}".`);
    }
  });
