// Prometheus metrics (prom-client) on a registry of the gateway's own, so tests can run several gateways.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Labels stay low-cardinality: no user, no free-form model name from callers.
  const requests = new Counter({ name: 'claude_key_gateway_requests_total', help: 'Requests by format, upstream and status.', labelNames: ['format', 'upstream', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'claude_key_gateway_request_duration_seconds',
    help: 'Time from request to the end of the answer.',
    labelNames: ['format', 'stream'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const tokens = new Counter({ name: 'claude_key_gateway_tokens_total', help: 'Tokens by kind.', labelNames: ['kind'], registers: [registry] });
  const cost = new Counter({ name: 'claude_key_gateway_cost_usd_total', help: 'Cost of answered requests in USD.', registers: [registry] });
  const pending = new Gauge({ name: 'claude_key_gateway_records_pending', help: 'Usage/audit records not yet written.', registers: [registry] });
  const upstreamInFlight = new Gauge({ name: 'claude_key_gateway_upstream_in_flight', help: 'Answers in flight per upstream.', labelNames: ['upstream'], registers: [registry] });
  const upstreamMaxInFlight = new Gauge({ name: 'claude_key_gateway_upstream_max_in_flight', help: 'Configured maxInFlight per upstream.', labelNames: ['upstream'], registers: [registry] });
  const upstreamOverloaded = new Gauge({ name: 'claude_key_gateway_upstream_overloaded_refusals', help: 'Requests refused with 529 because an upstream was at maxInFlight.', labelNames: ['upstream'], registers: [registry] });
  // A request another deployment answered after the first one tried failed (429, 5xx, 529, timeout).
  const fallbacks = new Counter({ name: 'claude_key_gateway_fallbacks_total', help: 'Requests answered after a failed try, by the deployment first tried and the one that answered.', labelNames: ['from', 'to'], registers: [registry] });
  return { registry, requests, duration, tokens, cost, pending, upstreamInFlight, upstreamMaxInFlight, upstreamOverloaded, fallbacks };
}

export type Metrics = ReturnType<typeof createMetrics>;
