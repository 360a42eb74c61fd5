// Renders a usage report as a plain text table for the CLI.
import type { ReportRow } from './store/store.js';

export function formatReport(by: string, since: Date, rows: readonly ReportRow[]): string {
  const header = [by.toUpperCase(), 'REQUESTS', 'INPUT', 'OUTPUT', 'CACHE_READ', 'CACHE_WRITE', 'COST_USD'];
  const lines = rows.map((r) => [r.key, r.requests, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costUsd.toFixed(6)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [`usage since ${since.toISOString()}`, fmt(header), ...lines.map(fmt)].join('\n') + '\n';
}
