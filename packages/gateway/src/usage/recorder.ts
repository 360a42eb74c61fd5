// Journals each request record, then writes them to the store in batches off the request path; retries with backoff.
import { noJournal, type JournalEntry, type RecordJournal } from '../store/journal.js';
import type { RequestRecord } from '../store/record.js';

export interface RecordSink {
  write(records: readonly RequestRecord[]): Promise<unknown>;
}

export interface RecorderOptions {
  intervalMs: number;
  batchSize: number;
  /** A write failed; the records are kept and retried after a pause that doubles up to maxBackoffMs. */
  onError: (err: unknown, waiting: number) => void;
  /** A write succeeded after failures. */
  onRecovered?: (written: number) => void;
  journal?: RecordJournal;
  maxBackoffMs?: number;
  now?: () => number;
}

export class BatchRecorder {
  private queue: JournalEntry[];
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly appending = new Set<Promise<unknown>>();
  private readonly journal: RecordJournal;
  private failures = 0;
  private retryAt = 0;

  constructor(private readonly sink: RecordSink, private readonly opts: RecorderOptions) {
    this.journal = opts.journal ?? noJournal;
    this.queue = [...this.journal.replayed];
    this.timer = setInterval(() => {
      if (this.now() >= this.retryAt) void this.flush().catch(() => undefined);
    }, opts.intervalMs);
    this.timer.unref();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Records not yet in the store (queued, or being journaled). */
  get pending(): number {
    return this.queue.length + this.appending.size;
  }

  /** True while the last write failed and the store has not answered since. */
  get failing(): boolean {
    return this.failures > 0;
  }

  get journalDir(): string | undefined {
    return this.journal.dir;
  }

  /**
   * Journals a record; resolves once it is on disk (or, if the journal cannot be written, kept in
   * memory), so the caller can end the answer only then. Never rejects.
   */
  add(record: RequestRecord): Promise<void> {
    const done = this.journal.append(record).then(
      (entry) => this.enqueue(entry),
      () => this.enqueue({ record }),
    );
    this.appending.add(done);
    void done.finally(() => this.appending.delete(done));
    return done;
  }

  private enqueue(entry: JournalEntry): void {
    this.queue.push(entry);
    if (this.queue.length >= this.opts.batchSize && this.now() >= this.retryAt) void this.flush().catch(() => undefined);
  }

  /** Writes what is queued now; one write at a time keeps the audit chain in order. Rejects if the store refused. */
  flush(): Promise<void> {
    const journaling = Promise.all([...this.appending]);
    this.flushing = this.flushing.catch(() => undefined).then(async () => {
      await journaling; // records of answers already ended are written too
      while (this.queue.length) {
        const batch = this.queue.slice(0, this.opts.batchSize);
        try {
          await this.sink.write(batch.map((e) => e.record));
        } catch (err) {
          this.failures++;
          this.retryAt = this.now() + Math.min(this.opts.intervalMs * 2 ** this.failures, this.opts.maxBackoffMs ?? 5000);
          this.opts.onError(err, this.pending);
          throw err;
        }
        // Only now: a batch written while its records were still in the queue cannot be lost to a failure.
        this.queue.splice(0, batch.length);
        this.journal.release(batch);
        if (this.failures) this.opts.onRecovered?.(batch.length);
        this.failures = 0;
        this.retryAt = 0;
      }
    });
    return this.flushing;
  }

  /**
   * Writes everything pending, retrying until `deadline` (ms, same clock as `now`). Never throws:
   * resolves with the number of records left in the journal for the next start.
   */
  async close(deadline = this.now()): Promise<number> {
    clearInterval(this.timer);
    while (this.appending.size) await Promise.all([...this.appending]);
    for (;;) {
      try {
        await this.flush();
        break;
      } catch {
        if (this.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(this.retryAt, deadline) - this.now())));
      }
    }
    const left = this.queue.length;
    await this.journal.close();
    return left;
  }
}
