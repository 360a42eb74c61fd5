// Builds the configured upstreams; the mock one is started in-process on a loopback port.
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '../config.js';
import { anthropicUpstream } from './anthropic.js';
import { bedrockUpstream } from './bedrock.js';
import { startMockUpstream, type MockUpstream } from './mock.js';
import { secretSource } from './secret.js';
import { InFlightLimit, type Upstream } from './upstream.js';
import { vertexUpstream } from './vertex.js';

export interface Upstreams {
  byName: Map<string, Upstream>;
  /** The embedded mock, when one was started (tests read its request log). */
  mock?: MockUpstream;
  close(): Promise<void>;
}

export async function createUpstreams(config: GatewayConfig, env: NodeJS.ProcessEnv): Promise<Upstreams> {
  const byName = new Map<string, Upstream>();
  let mock: MockUpstream | undefined;
  for (const [name, up] of Object.entries(config.upstreams)) {
    const field = `upstreams.${name}`;
    const literal = (value: string) => secretSource(value, { env, claudeKeyBinary: '', field });
    if (up.type === 'mock' && up.url) {
      byName.set(name, anthropicUpstream(name, up.url, literal('mock'), { kind: 'mock', timeoutMs: up.timeoutMs }));
    } else if (up.type === 'mock') {
      // A random key per process proves the caller's credential never reaches the upstream.
      const key = randomBytes(16).toString('hex');
      const started = await startMockUpstream({ apiKey: key });
      mock ??= started;
      byName.set(name, anthropicUpstream(name, started.url, literal(key), { kind: 'mock', timeoutMs: up.timeoutMs, extraClose: () => started.close() }));
    } else if (up.type === 'anthropic') {
      const key = secretSource(up.apiKey, { env, claudeKeyBinary: config.claudeKey.binary, field: `${field}.apiKey` });
      byName.set(name, anthropicUpstream(name, up.url, key, { timeoutMs: up.timeoutMs }));
    } else if (up.type === 'bedrock') {
      byName.set(name, bedrockUpstream(name, up));
    } else {
      byName.set(name, vertexUpstream(name, up));
    }
  }
  for (const [name, upstream] of byName) byName.set(name, { ...upstream, inFlight: new InFlightLimit(config.upstreams[name]!.maxInFlight) });
  return {
    byName,
    mock,
    async close() {
      await Promise.all([...byName.values()].map((u) => u.close()));
    },
  };
}
