// The gateway's handle on its store: the same calls as Store, answered by a worker thread.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UnreachableError } from '@claude-key/core';
import type { RequestRecord } from './record.js';
import type { ReportKey, ReportRow } from './store.js';

export interface StoreOptions {
  url?: string | undefined;
  path: string;
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

  private constructor(private readonly worker: Worker, readonly kind: 'pglite' | 'postgres') {
    worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const call = this.pending.get(msg.id);
      if (!call) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) call.reject(new Error(msg.error));
      else call.resolve(msg.result);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', () => this.fail(new Error('the store worker has stopped')));
  }

  private dead: Error | undefined;

  private fail(err: Error): void {
    this.dead ??= err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }

  static async open(opts: StoreOptions): Promise<RemoteStore> {
    const worker = spawnWorker(opts);
    const first = await new Promise<{ ready: boolean; kind?: 'pglite' | 'postgres'; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (!first.ready) {
      await worker.terminate();
      throw new UnreachableError(`cannot open the store: ${first.error}`, { hint: 'check store.url / DATABASE_URL or store.path' });
    }
    return new RemoteStore(worker, first.kind!);
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  write(records: readonly RequestRecord[]): Promise<void> {
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
    if (this.dead) return;
    await this.call('close');
    this.dead = new Error('the store is closed');
    await this.worker.terminate();
  }
}
