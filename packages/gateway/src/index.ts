// Public surface of @claude-key/gateway: build a gateway in-process, or run its CLI.
export { createGateway, parseSince, type Gateway, type GatewayOptions } from './gateway.js';
export { loadConfig, parseConfig, configSchema, type GatewayConfig, type GatewayConfigInput } from './config.js';
export { startMockUpstream, MOCK_REPLY, type MockUpstream } from './upstreams/mock.js';
export type { Upstream } from './upstreams/upstream.js';
export type { RequestContext, Operation } from './context.js';
export { createRouter, weightedOrder, type Router, type RouteResult, type Target } from './routing.js';
export { GatewayError, anthropicErrorBody } from './errors.js';
export { hashApiKey } from './auth/api-keys.js';
export { Store } from './store/store.js';
export { main } from './cli.js';
