// The console's reads (and the hourly rollup it reads from), in plain SQL that PostgreSQL, PGlite and SQLite all run.
import { AUDIT_EVENT_PREDICATE } from './migrations.js';
import type { RequestRecord } from './record.js';
import type { ReportRow } from './store.js';

/** Runs one statement and returns its rows: RemoteStore.query, or a pg/PGlite client in the bench. */
export type Rows = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export type Dimension = 'team' | 'user' | 'model';
export type Period = 'day' | 'week' | 'month';

const COLUMN: Record<Dimension, string> = { team: 'team_id', user: 'user_id', model: 'model' };
/** Series show this many keys by cost; the rest is summed as "other", so a chart stays readable. */
const SERIES_KEYS = 8;

/** `YYYY-MM-DDTHH` of a time, UTC: the rollups' key, computed here so the SQL needs no date functions. */
export const hourOf = (iso: string) => iso.slice(0, 13);

const SUM_COLUMNS = ['requests', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd'];

/** One multi-row upsert adding a batch's sums to a rollup table. */
function upsert(table: string, keyColumns: string[], sums: Map<string, { key: unknown[]; sums: number[] }>) {
  const params: unknown[] = [];
  const values: string[] = [];
  for (const { key, sums: s } of sums.values()) {
    const row = [...key, ...s];
    values.push(`(${row.map((_, i) => `$${params.length + i + 1}`).join(', ')})`);
    params.push(...row);
  }
  return {
    sql: `INSERT INTO ${table} (${[...keyColumns, ...SUM_COLUMNS].join(', ')}) VALUES ${values.join(', ')}
          ON CONFLICT (${keyColumns.join(', ')}) DO UPDATE SET ${SUM_COLUMNS.map((c) => `${c} = ${table}.${c} + EXCLUDED.${c}`).join(', ')}`,
    params,
  };
}

/**
 * The upserts that keep the rollups in step with a batch of usage rows, in the same transaction.
 * The batch is summed here first, so 500 requests are a handful of rows per table.
 */
export function rollupUpserts(records: readonly RequestRecord[]): { sql: string; params: unknown[] }[] {
  if (!records.length) return [];
  const tables = {
    usage_hourly: { keys: ['hour', 'team_id', 'model', 'status'], sums: new Map<string, { key: unknown[]; sums: number[] }>() },
    usage_daily: { keys: ['day', 'team_id', 'model', 'status'], sums: new Map<string, { key: unknown[]; sums: number[] }>() },
    usage_user_hourly: { keys: ['hour', 'user_id', 'team_id'], sums: new Map<string, { key: unknown[]; sums: number[] }>() },
    usage_user_daily: { keys: ['day', 'user_id', 'team_id'], sums: new Map<string, { key: unknown[]; sums: number[] }>() },
  };
  for (const r of records) {
    const hour = hourOf(new Date(r.time).toISOString());
    const [team, user, model] = [r.team ?? '-', r.user ?? '-', r.model ?? '-'];
    const add = (t: keyof typeof tables, key: unknown[]) => {
      const id = JSON.stringify(key);
      const entry = tables[t].sums.get(id) ?? { key, sums: [0, 0, 0, 0, 0, 0] };
      const v = [1, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costUsd];
      v.forEach((n, i) => (entry.sums[i]! += n));
      tables[t].sums.set(id, entry);
    };
    add('usage_hourly', [hour, team, model, r.status]);
    add('usage_daily', [hour.slice(0, 10), team, model, r.status]);
    add('usage_user_hourly', [hour, user, team]);
    add('usage_user_daily', [hour.slice(0, 10), user, team]);
  }
  return Object.entries(tables).map(([table, t]) => upsert(table, t.keys, t.sums));
}

/** The window a period picker value covers, ending now, and its bucket (an hour for a day, else a day). */
export function periodWindow(period: Period, nowMs: number): { from: string; to: string; bucket: 'hour' | 'day'; buckets: string[] } {
  const hours = { day: 24, week: 7 * 24, month: 30 * 24 }[period];
  const bucket = period === 'day' ? 'hour' : 'day';
  const end = Math.floor(nowMs / 3_600_000) * 3_600_000; // the current hour's start
  const first = end - (hours - 1) * 3_600_000;
  const buckets: string[] = [];
  for (let t = first; t <= end; t += 3_600_000) {
    const b = hourOf(new Date(t).toISOString()).slice(0, bucket === 'hour' ? 13 : 10);
    if (buckets[buckets.length - 1] !== b) buckets.push(b);
  }
  return { from: hourOf(new Date(first).toISOString()), to: hourOf(new Date(end).toISOString()), bucket, buckets };
}

/** A row of totals: the same shape as the usage report's. */
export type Totals = ReportRow;

const SUMS = `sum(requests) AS requests, sum(input_tokens) AS input, sum(output_tokens) AS output,
  sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, sum(cost_usd) AS cost`;

/** A row of `key, requests, input, output, cache_read, cache_write, cost` sums (the report's and the console's). */
export const totals = (r: Record<string, unknown>): Totals => ({
  key: String(r.key),
  requests: Number(r.requests),
  inputTokens: Number(r.input),
  outputTokens: Number(r.output),
  cacheReadTokens: Number(r.cache_read),
  cacheWriteTokens: Number(r.cache_write),
  costUsd: Number(r.cost),
});

/** Where a dimension's sums live for a bucket size: its rollup table, time column and how to cut the bucket. */
function source(by: Dimension, bucket: 'hour' | 'day', from: string, to: string) {
  const tables = by === 'user' ? ['usage_user_hourly', 'usage_user_daily'] : ['usage_hourly', 'usage_daily'];
  if (bucket === 'hour') return { table: tables[0]!, time: 'hour', from, to, bucketExpr: 'hour' };
  return { table: tables[1]!, time: 'day', from: from.slice(0, 10), to: to.slice(0, 10), bucketExpr: 'day' };
}

/** Totals per team, user or model in a window, costliest first. */
export async function totalsBy(rows: Rows, by: Dimension, from: string, to: string, bucket: 'hour' | 'day', limit = 50): Promise<Totals[]> {
  const src = source(by, bucket, from, to);
  const result = await rows(
    `SELECT ${COLUMN[by]} AS key, ${SUMS} FROM ${src.table} WHERE ${src.time} >= $1 AND ${src.time} <= $2
      GROUP BY ${COLUMN[by]} ORDER BY cost DESC, key LIMIT ${Number(limit)}`,
    [src.from, src.to],
  );
  return result.map(totals);
}

export interface Series {
  by: Dimension;
  period: Period;
  bucket: 'hour' | 'day';
  /** Bucket labels, oldest first: `YYYY-MM-DDTHH` or `YYYY-MM-DD`. */
  buckets: string[];
  /** One line per key (the costliest, then "other"), aligned with `buckets`. */
  series: { key: string; costUsd: number[]; tokens: number[]; requests: number[] }[];
  totals: Totals[];
}

/** Cost, tokens and requests per bucket for the costliest keys of a dimension. */
export async function usageSeries(rows: Rows, by: Dimension, period: Period, nowMs: number): Promise<Series> {
  const w = periodWindow(period, nowMs);
  const top = await totalsBy(rows, by, w.from, w.to, w.bucket, 50);
  const src = source(by, w.bucket, w.from, w.to);
  const shown = top.slice(0, SERIES_KEYS).map((t) => t.key);
  const column = COLUMN[by];
  const keyExpr = shown.length ? `CASE WHEN ${column} IN (${shown.map((_, i) => `$${i + 3}`).join(', ')}) THEN ${column} ELSE '(other)' END` : `'(other)'`;
  const result = await rows<Record<string, unknown>>(
    `SELECT ${src.bucketExpr} AS bucket, ${keyExpr} AS key, ${SUMS}
       FROM ${src.table} WHERE ${src.time} >= $1 AND ${src.time} <= $2 GROUP BY 1, 2`,
    [src.from, src.to, ...shown],
  );
  const index = new Map(w.buckets.map((b, i) => [b, i]));
  const byKey = new Map<string, Series['series'][number]>();
  for (const key of [...shown, '(other)']) {
    byKey.set(key, { key, costUsd: w.buckets.map(() => 0), tokens: w.buckets.map(() => 0), requests: w.buckets.map(() => 0) });
  }
  for (const r of result) {
    const i = index.get(String(r.bucket));
    const s = byKey.get(String(r.key));
    if (i === undefined || !s) continue;
    const t = totals(r);
    s.costUsd[i] = t.costUsd;
    s.tokens[i] = t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheWriteTokens;
    s.requests[i] = t.requests;
  }
  const series = [...byKey.values()].filter((s) => s.requests.some((n) => n > 0));
  return { by, period, bucket: w.bucket, buckets: w.buckets, series, totals: top };
}

/** Spend per user and team since a UTC day (today, or the first of the month), for budgets. */
export async function spendByScope(rows: Rows, sinceDay: string): Promise<{ kind: 'user' | 'team'; id: string; usd: number }[]> {
  const result = await rows<{ kind: 'user' | 'team'; id: string; usd: number }>(
    `SELECT 'user' AS kind, user_id AS id, sum(cost_usd) AS usd FROM usage_user_daily WHERE day >= $1 GROUP BY user_id
     UNION ALL
     SELECT 'team' AS kind, team_id AS id, sum(cost_usd) AS usd FROM usage_daily WHERE day >= $1 GROUP BY team_id`,
    [sinceDay],
  );
  return result.map((r) => ({ kind: r.kind, id: String(r.id), usd: Number(r.usd) }));
}

/** A stored request as the console lists it: the record's own fields, without tokens or client details. */
export type UsageRow = Pick<
  RequestRecord,
  'requestId' | 'time' | 'user' | 'team' | 'credentialId' | 'model' | 'format' | 'upstream' | 'status' | 'costUsd' | 'latencyMs'
> & { deployment: string | null };

const usageRow = (r: Record<string, unknown>): UsageRow => ({
  requestId: String(r.request_id),
  time: new Date(r.ts as string).toISOString(),
  user: (r.user_id as string) ?? null,
  team: (r.team_id as string) ?? null,
  credentialId: (r.credential_id as string) ?? null,
  model: (r.model as string) ?? null,
  format: String(r.format),
  upstream: (r.upstream as string) ?? null,
  deployment: (r.deployment as string) ?? null,
  status: Number(r.status),
  costUsd: Number(r.cost_usd),
  latencyMs: Number(r.latency_ms),
});

const USAGE_COLUMNS = 'request_id, ts, user_id, team_id, credential_id, model, format, upstream, deployment, status, cost_usd, latency_ms';

/**
 * The newest refusals: rate limits (429) and budget or policy refusals (403). Each status is read
 * newest first through (status, ts) and stops at `limit`, and only those rows are merged: with a
 * single ORDER BY over the union, PostgreSQL fetched every refusal of the week (17,000 rows at
 * 5M usage rows, 560 ms) to sort them.
 */
export async function recentRefusals(rows: Rows, since: string, limit = 50): Promise<UsageRow[]> {
  const n = Number(limit);
  const newest = (status: number) => `SELECT * FROM (SELECT ${USAGE_COLUMNS} FROM usage_records WHERE status = ${status} AND ts >= $1 ORDER BY ts DESC LIMIT ${n}) s${status}`;
  const result = await rows(
    `SELECT * FROM (${newest(429)} UNION ALL ${newest(403)}) refusals ORDER BY ts DESC LIMIT ${n}`,
    [since],
  );
  return result.map(usageRow);
}

export interface AuditFilter {
  user?: string | undefined;
  team?: string | undefined;
  model?: string | undefined;
  status?: number | undefined;
  /** ISO times. */
  from?: string | undefined;
  to?: string | undefined;
  limit?: number | undefined;
}

/** A filter's conditions on usage_records columns (`prefix` names the table alias), numbered $1, $2, … */
function usageFilter(f: AuditFilter, prefix: string, where: string[] = []): { where: string[]; params: unknown[] } {
  const params: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    params.push(value);
    where.push(`${prefix}${condition} $${params.length}`);
  };
  if (f.user) add('user_id =', f.user);
  if (f.team) add('team_id =', f.team);
  if (f.model) add('model =', f.model);
  if (f.status !== undefined) add('status =', f.status);
  if (f.from) add('ts >=', f.from);
  if (f.to) add('ts <', f.to);
  return { where, params };
}

/** Request records matching a filter, newest first, through the (user, ts), (team, ts), (status, ts) or ts index. */
export async function searchRequests(rows: Rows, f: AuditFilter): Promise<UsageRow[]> {
  const { where, params } = usageFilter(f, '');
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const result = await rows(
    `SELECT ${USAGE_COLUMNS} FROM usage_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC LIMIT ${limit}`,
    params,
  );
  return result.map(usageRow);
}

export interface AuditRow {
  seq: number;
  prevHash: string;
  hash: string;
  body: string;
}

/**
 * Audit entries (the hash-chained text, re-verifiable) matching a filter, newest first, at most `limit`.
 * Request records are found through usage rows and their indexes (user, team, model, status, time),
 * each pointing at its entry; other events (enrollments, approvals, revocations, console sign-ins)
 * through the partial index of non-request entries, matched on their JSON text.
 */
export async function searchAudit(rows: Rows, f: AuditFilter, limit = 200): Promise<AuditRow[]> {
  limit = Math.min(Math.max(limit, 1), 100_000);
  const { where, params } = usageFilter(f, 'u.', ['u.audit_seq IS NOT NULL']);
  const requests = rows<{ seq: string; prev_hash: string; hash: string; body: string }>(
    `SELECT a.seq, a.prev_hash, a.hash, a.body FROM usage_records u JOIN audit_log a ON a.seq = u.audit_seq
      WHERE ${where.join(' AND ')} ORDER BY u.ts DESC LIMIT ${limit}`,
    params,
  );
  // Events carry no model or status: a filter on either leaves them out.
  const events = f.model || f.status !== undefined ? Promise.resolve([]) : searchEvents(rows, f, limit);
  const merged = [...(await requests), ...(await events)].map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash, body: r.body }));
  return merged.sort((a, b) => b.seq - a.seq).slice(0, limit);
}

function searchEvents(rows: Rows, f: AuditFilter, limit: number) {
  const where = [AUDIT_EVENT_PREDICATE];
  const params: unknown[] = [];
  const like = (field: string, value: string, array = false) => {
    params.push(`%"${field}":${array ? '[%' : ''}${JSON.stringify(value).replace(/[%_\\]/g, '\\$&')}%`);
    return `body LIKE $${params.length} ESCAPE '\\'`;
  };
  // A user filter matches the user an event is about or the admin who did it (`by`, "source subject").
  if (f.user) where.push(`(${like('user', f.user)} OR ${like('by', f.user)})`);
  if (f.team) where.push(`(${like('team', f.team)} OR ${like('teams', f.team, true)})`);
  // Every body starts with {"time":"<ISO>", so its time is a fixed slice of the text.
  if (f.from) (params.push(f.from), where.push(`substr(body, 10, 24) >= $${params.length}`));
  if (f.to) (params.push(f.to), where.push(`substr(body, 10, 24) < $${params.length}`));
  return rows<{ seq: string; prev_hash: string; hash: string; body: string }>(
    `SELECT seq, prev_hash, hash, body FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ${limit}`,
    params,
  );
}

export interface DeploymentHealth {
  upstream: string;
  deployment: string;
  requests: number;
  errors: number;
  meanLatencyMs: number | null;
}

/** Requests and errors (5xx, 529 and 499 cut streams) per upstream and deployment since a time. */
export async function deploymentHealth(rows: Rows, since: string): Promise<DeploymentHealth[]> {
  const result = await rows<Record<string, unknown>>(
    `SELECT COALESCE(upstream, '-') AS upstream, COALESCE(deployment, '-') AS deployment, count(*) AS requests,
            sum(CASE WHEN status >= 500 OR status = 499 THEN 1 ELSE 0 END) AS errors, avg(latency_ms) AS latency
       FROM usage_records WHERE ts >= $1 AND upstream IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC`,
    [since],
  );
  return result.map((r) => ({
    upstream: String(r.upstream),
    deployment: String(r.deployment),
    requests: Number(r.requests),
    errors: Number(r.errors),
    meanLatencyMs: r.latency === null ? null : Math.round(Number(r.latency)),
  }));
}
