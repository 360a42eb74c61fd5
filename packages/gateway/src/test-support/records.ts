// Request records for store and audit tests.
import type { RequestRecord } from '../store/record.js';

export function testRecord(n: number, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: `req-${n}-${Math.random().toString(36).slice(2)}`,
    time: new Date(Date.UTC(2026, 10, 23, 12, 0, n)).toISOString(),
    user: n % 2 ? 'alice' : 'bob',
    team: 'eng',
    credentialId: `jti:t${n}`,
    model: 'claude-sonnet-4-5-20250929',
    format: 'anthropic:messages',
    upstream: 'mock',
    status: 200,
    inputTokens: 100,
    outputTokens: 10,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.00045,
    latencyMs: 1.5,
    clientAddress: '127.0.0.1',
    userAgent: 'test',
    ...overrides,
  };
}
