// Model routing: any client spelling of a model -> its group -> the deployments to try, in order.
//
// Groups (config `models`) come first: Claude Code's Bedrock id, its Vertex name and the
// Anthropic name reduce to one key (api-formats' canonicalModelKey). Models no group claims
// fall back to the `routes` globs, served under the name the client used.
import { canonicalModelKey, createModelResolver, type ApiFormat, type InferenceProfileEntry, type UpstreamKind } from '@claude-key/api-formats';
import type { GatewayConfig } from './config.js';
import { globMatch } from './policy.js';
import type { Upstream } from './upstreams/upstream.js';

export interface Target {
  upstream: Upstream;
  /** The upstream's own id for the model. */
  model: string;
  /** `upstream/model`, as usage and audit record it. */
  name: string;
}

export interface RouteResult {
  /** The model's group name (or canonical key): what policies and prices see. */
  model: string;
  /** Deployments in the order to try them: a weighted pick first, then the rest as fallbacks. */
  targets: Target[];
}

export interface Router {
  resolve(clientModel: string, clientFormat: ApiFormat): RouteResult | undefined;
  /** What `GET /bedrock/inference-profiles` lists: the Bedrock spellings in the routing table. */
  readonly inferenceProfiles: InferenceProfileEntry[];
}

const SAME_WIRE: Record<UpstreamKind, ApiFormat> = { anthropic: 'anthropic', mock: 'anthropic', bedrock: 'bedrock', vertex: 'vertex' };
const BEDROCK_ID = /^(?:[a-z]{2,6}(?:-[a-z]+)?\.)?anthropic\./;

export function createRouter(config: GatewayConfig, upstreams: Map<string, Upstream>, random: () => number = Math.random): Router {
  const groupOf = createModelResolver(config.models);
  const groups = new Map(config.models.map((g) => [g.name, g]));
  const target = (upstream: string, model: string): Target => ({ upstream: upstreams.get(upstream)!, model, name: `${upstream}/${model}` });
  const ids = new Set<string>();
  for (const g of config.models) for (const name of [...g.aliases, ...g.deployments.map((d) => d.model)]) if (BEDROCK_ID.test(name)) ids.add(name);

  return {
    inferenceProfiles: [...ids].map((id) => ({ id })),
    resolve(clientModel, clientFormat) {
      const groupName = groupOf(clientModel);
      if (groupName !== undefined) {
        const deployments = groups.get(groupName)!.deployments;
        return { model: groupName, targets: weightedOrder(deployments, random).map((d) => target(d.upstream, d.model)) };
      }
      const key = canonicalModelKey(clientModel);
      const route = config.routes.find((r) => globMatch(r.model, clientModel) || globMatch(r.model, key));
      if (!route) return undefined;
      const upstream = upstreams.get(route.upstream)!;
      // A client speaking the upstream's own wire format named the model in the upstream's spelling.
      return { model: key, targets: [target(route.upstream, SAME_WIRE[upstream.kind] === clientFormat ? clientModel : key)] };
    },
  };
}

/** One deployment picked by weight, then the others by descending weight; weight 0 is fallback only. */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: () => number): T[] {
  const total = items.reduce((sum, d) => sum + d.weight, 0);
  let first = -1;
  if (total > 0) {
    let point = random() * total;
    first = items.findIndex((d) => (point -= d.weight) < 0);
    if (first === -1) first = items.findLastIndex((d) => d.weight > 0);
  }
  const rest = items.filter((_, i) => i !== first).sort((a, b) => b.weight - a.weight);
  return first === -1 ? rest : [items[first]!, ...rest];
}
