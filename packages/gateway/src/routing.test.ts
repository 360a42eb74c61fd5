// Routing: every client spelling of a model reaches its group; weighted order; routes for the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './config.js';
import { createRouter, weightedOrder } from './routing.js';
import type { Upstream } from './upstreams/upstream.js';

const fake = (name: string, kind: Upstream['kind']) => ({ name, kind }) as Upstream;

describe('routing', () => {
  const config = parseConfig({
    upstreams: { mock: { type: 'mock' }, east: { type: 'bedrock', region: 'us-east-1' }, vx: { type: 'vertex', project: 'p', region: 'us-east5' } },
    models: [
      {
        name: 'sonnet',
        aliases: ['claude-sonnet-4-5-20250929'],
        deployments: [
          { upstream: 'east', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', weight: 3 },
          { upstream: 'vx', model: 'claude-sonnet-4-5@20250929', weight: 1 },
          { upstream: 'mock', model: 'claude-sonnet-4-5-20250929', weight: 0 },
        ],
      },
    ],
    routes: [{ model: 'claude-haiku-*', upstream: 'mock' }],
  });
  const upstreams = new Map([['mock', fake('mock', 'mock')], ['east', fake('east', 'bedrock')], ['vx', fake('vx', 'vertex')]]);

  it("Claude Code's Bedrock id, its Vertex name and the Anthropic name reach the same group", () => {
    const router = createRouter(config, upstreams, () => 0);
    for (const [name, format] of [
      ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'bedrock'],
      ['claude-sonnet-4-5@20250929', 'vertex'],
      ['claude-sonnet-4-5-20250929', 'anthropic'],
    ] as const) {
      assert.equal(router.resolve(name, format)?.model, 'sonnet', name);
    }
    assert.deepEqual(router.inferenceProfiles, [{ id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }]);
  });

  it('picks the first deployment by weight and keeps the others, weight 0 last, as fallbacks', () => {
    const names = (r: number) => createRouter(config, upstreams, () => r).resolve('sonnet', 'anthropic')!.targets.map((t) => t.upstream.name);
    assert.deepEqual(names(0), ['east', 'vx', 'mock']);
    assert.deepEqual(names(0.74), ['east', 'vx', 'mock']);
    assert.deepEqual(names(0.76), ['vx', 'east', 'mock']);
    assert.deepEqual(weightedOrder([{ weight: 0 }, { weight: 0 }], () => 0.5).length, 2);
  });

  it('models no group claims use the route globs, under the name the client used', () => {
    const router = createRouter(config, upstreams, () => 0);
    const r = router.resolve('claude-haiku-4-5-20251001', 'anthropic')!;
    assert.equal(r.targets[0]!.name, 'mock/claude-haiku-4-5-20251001');
    assert.equal(router.resolve('claude-opus-4-1', 'anthropic'), undefined);
  });

  it('config errors name the field', () => {
    assert.throws(
      () => parseConfig({ models: [{ name: 'x', deployments: [{ upstream: 'nowhere', model: 'm' }] }] }),
      /models\.0\.deployments\.0\.upstream: unknown upstream "nowhere"/,
    );
    assert.throws(() => parseConfig({ upstreams: { b: { type: 'bedrock' } } }), /upstreams\.b\.region/);
    assert.throws(() => parseConfig({ upstreams: { v: { type: 'vertex', project: 'p', region: 'r', credentials: 'mine' } } }), /upstreams\.v\.credentials/);
  });
});

describe('README', () => {
  it('accepts the upstreams and model groups example as written', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const yaml = /### Upstreams and model groups[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const config = parseConfig(parse(yaml));
    const upstreams = new Map(Object.entries(config.upstreams).map(([name, u]) => [name, fake(name, u.type)]));
    const router = createRouter(config, upstreams, () => 0);
    assert.equal(router.resolve('claude-sonnet-4-5@20250929', 'vertex')!.targets.map((t) => t.name).join(' '),
      'bedrock-east/us.anthropic.claude-sonnet-4-5-20250929-v1:0 vertex/claude-sonnet-4-5@20250929 anthropic/claude-sonnet-4-5-20250929');
  });
});
