// The gateway's handle on its store: the same calls as Store, answered by a worker thread.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UnreachableError } from '@claude-key/core';
import type { RequestRecord } from './record.js';
import type { StoreKind } from './sql.js';
import type { ReportKey, ReportRow } from './store.js';

export interface StoreOptions {
  url?: string | undefined;
  path: string;
  engine?: 'sqlite' | 'pglite' | undefined;
  schema?: string | undefined;
}

/** The worker runs the built .js; from TypeScript sources (tests, tsx) it first registers tsx in the worker. */
function spawnWorker(opts: StoreOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(fileURLToPath(new URL('./store-worker.js', import.meta.url)), { workerData: opts });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./store-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: opts });
}

export class RemoteStore {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private worker: Worker | undefined;
  private respawning: Promise<Worker> | undefined;
  private respawnAt = 0;
  private respawns = 0;
  private closed: Error | undefined;

  private constructor(worker: Worker, readonly kind: StoreKind, private readonly opts: StoreOptions) {
    this.attach(worker);
  }

  private attach(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const call = this.pending.get(msg.id);
      if (!call) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) call.reject(new Error(msg.error));
      else call.resolve(msg.result);
    });
    const lost = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const call of this.pending.values()) call.reject(err);
      this.pending.clear();
    };
    worker.on('error', lost);
    worker.on('exit', () => lost(new Error('the store worker has stopped')));
  }

  static async open(opts: StoreOptions): Promise<RemoteStore> {
    const { worker, kind } = await startWorker(opts);
    return new RemoteStore(worker, kind, opts);
  }

  /** The worker, started afresh (at most once per backoff step) if the last one died. */
  private live(): Promise<Worker> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.worker) return Promise.resolve(this.worker);
    if (this.respawning) return this.respawning;
    if (Date.now() < this.respawnAt) return Promise.reject(new UnreachableError('the store is unavailable; retrying'));
    this.respawning = startWorker(this.opts)
      .then(({ worker }) => {
        this.respawns = 0;
        this.attach(worker);
        return worker;
      })
      .catch((err: Error) => {
        this.respawnAt = Date.now() + Math.min(250 * 2 ** this.respawns++, 5000);
        throw err;
      })
      .finally(() => (this.respawning = undefined));
    return this.respawning;
  }

  private async call<T>(method: string, ...args: unknown[]): Promise<T> {
    const worker = await this.live();
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  }

  /** Resolves with the audit chain's new head (undefined if every record was already stored). */
  write(records: readonly RequestRecord[]): Promise<{ seq: number; hash: string } | undefined> {
    return this.call('write', records);
  }

  report(by: ReportKey, since: Date): Promise<ReportRow[]> {
    return this.call('report', by, since.toISOString());
  }

  spendSince(since: Date): Promise<{ kind: 'user' | 'team'; id: string; day: string; usd: number }[]> {
    return this.call('spendSince', since.toISOString());
  }

  applyTrustChange(statements: readonly { sql: string; params?: unknown[] }[], audit: Record<string, unknown>, notify?: string): Promise<void> {
    return this.call('applyTrustChange', statements, audit, notify);
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.call('query', sql, params);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const worker = this.worker;
    if (worker) await this.call('close').catch(() => undefined);
    this.closed = new Error('the store is closed');
    await worker?.terminate();
  }
}

async function startWorker(opts: StoreOptions): Promise<{ worker: Worker; kind: StoreKind }> {
  const worker = spawnWorker(opts);
  const first = await new Promise<{ ready: boolean; kind?: StoreKind; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (!first.ready) {
    await worker.terminate();
    throw new UnreachableError(`cannot open the store: ${first.error}`, { hint: 'check store.url / DATABASE_URL or store.path' });
  }
  return { worker, kind: first.kind! };
}
