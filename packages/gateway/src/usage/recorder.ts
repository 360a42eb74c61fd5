// Collects request records off the request path and writes them in batches; flushes everything on close.
import type { RequestRecord } from '../store/record.js';

export interface RecordSink {
  write(records: readonly RequestRecord[]): Promise<void>;
}

export class BatchRecorder {
  private queue: RequestRecord[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly sink: RecordSink,
    private readonly opts: { intervalMs: number; batchSize: number; onError: (err: unknown) => void },
  ) {
    this.timer = setInterval(() => void this.flush(), opts.intervalMs);
    this.timer.unref();
  }

  get pending(): number {
    return this.queue.length;
  }

  add(record: RequestRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.opts.batchSize) void this.flush();
  }

  /** Writes what is queued now; one write at a time keeps the audit chain in order. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.opts.batchSize);
        try {
          await this.sink.write(batch);
        } catch (err) {
          // Keep the records for the next attempt rather than lose them.
          this.queue.unshift(...batch);
          this.opts.onError(err);
          if (!this.closed) return;
          throw err;
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }
}
