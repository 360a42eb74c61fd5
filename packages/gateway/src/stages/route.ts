// Resolves the model the client named to its group and the deployments that serve it.
import type { ApiFormat } from '@claude-key/api-formats';
import { notFound } from '../errors.js';
import { before, type Stage } from '../pipeline.js';
import type { RouteResult } from '../routing.js';

export interface RouteDeps {
  router: { resolve(model: string, format: ApiFormat): RouteResult | undefined };
}

export const routeStage = ({ router }: RouteDeps): Stage =>
  before('route', (ctx) => {
    const routing = router.resolve(ctx.canonical!.model, ctx.format);
    if (!routing) throw notFound(`No upstream serves model "${ctx.canonical!.model}".`);
    ctx.routing = routing;
    ctx.model = routing.model;
  });
