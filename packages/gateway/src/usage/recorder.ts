// Journals each request record, then writes them to the store in batches off the request path; retries with backoff.
import { noJournal, type JournalEntry, type JournalSegment, type RecordJournal } from '../store/journal.js';
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
  /**
   * Records held in memory at most. Past it (the store down for long), journaled records are
   * dropped from memory and read back from their journal segment once the queue has drained.
   */
  maxQueued?: number;
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
  /** Records only in the journal, per segment, in the order they were dropped from memory. */
  private readonly spilled = new Map<JournalSegment, number>();
  private spilledCount = 0;
  /** Per entry read back from a segment: what to give back to the journal once all are stored. */
  private readonly rereads = new WeakMap<JournalEntry, { segment: JournalSegment; count: number; left: number }>();

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
    return this.queue.length + this.spilledCount + this.appending.size;
  }

  /** Records held in memory now. */
  get queued(): number {
    return this.queue.length;
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
    if (entry.segment && this.queue.length >= (this.opts.maxQueued ?? Infinity)) {
      this.spilled.set(entry.segment, (this.spilled.get(entry.segment) ?? 0) + 1);
      this.spilledCount++;
      return;
    }
    this.queue.push(entry);
    if (this.queue.length >= this.opts.batchSize && this.now() >= this.retryAt) void this.flush().catch(() => undefined);
  }

  /** Writes what is queued now; one write at a time keeps the audit chain in order. Rejects if the store refused. */
  flush(): Promise<void> {
    const journaling = Promise.all([...this.appending]);
    this.flushing = this.flushing.catch(() => undefined).then(async () => {
      await journaling; // records of answers already ended are written too
      while (this.queue.length || this.spilled.size) {
        if (!this.queue.length) this.readBack();
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
        for (const entry of batch) {
          const from = this.rereads.get(entry);
          if (from && --from.left === 0) this.journal.releaseCount(from.segment, from.count);
        }
        if (this.failures) this.opts.onRecovered?.(batch.length);
        this.failures = 0;
        this.retryAt = 0;
      }
    });
    return this.flushing;
  }

  /** Brings one spilled segment back into memory (all its records: the store skips those it has). */
  private readBack(): void {
    const [segment, count] = this.spilled.entries().next().value as [JournalSegment, number];
    this.spilled.delete(segment);
    this.spilledCount -= count;
    const entries = this.journal.reread(segment);
    const from = { segment, count, left: entries.length };
    for (const entry of entries) this.rereads.set(entry, from);
    if (!entries.length) this.journal.releaseCount(segment, count);
    this.queue.push(...entries);
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
    const left = this.queue.length + this.spilledCount;
    await this.journal.close();
    return left;
  }
}
