// Starts a gateway on loopback with the embedded mock upstream and an in-memory PGlite store, for tests.
import { createGateway, type Gateway, type GatewayOptions } from '../gateway.js';
import { parseConfig, type GatewayConfigInput } from '../config.js';
import { createLogger } from '../log.js';
import type { MockUpstream } from '../upstreams/mock.js';
import { createTestIssuer, issuerConfig, type TestIssuer } from './keys.js';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  mock: MockUpstream;
  issuer: TestIssuer;
  /** The log lines the gateway wrote. */
  logs: string[];
  close(): Promise<void>;
}

export async function startTestGateway(
  overrides: Partial<GatewayConfigInput> & { auth?: Partial<NonNullable<GatewayConfigInput['auth']>> } = {},
  opts: GatewayOptions & { issuer?: TestIssuer } = {},
): Promise<TestGateway> {
  const issuer = opts.issuer ?? (await createTestIssuer());
  const { auth, ...rest } = overrides;
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    store: { path: 'memory://', flushIntervalMs: 20 },
    log: { level: 'info' },
    ...rest,
    auth: { issuers: [issuerConfig(issuer)], ...auth },
  });
  const logs: string[] = [];
  const gateway = await createGateway(config, { logger: createLogger('debug', (l) => logs.push(l)), ...opts });
  const url = await gateway.listen(0, '127.0.0.1');
  return { gateway, url, mock: gateway.upstreams.mock!, issuer, logs, close: () => gateway.close() };
}

/** A small valid Messages request body. */
export function messagesBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }], ...extra };
}
