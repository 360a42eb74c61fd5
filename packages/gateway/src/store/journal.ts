// A local append-only journal of request records: each is written before its answer ends and kept until the store has it.
//
// Processes sharing a journal directory (replicas on one host with one config) each lock a slot
// of their own (`<dir>/<n>`, proper-lockfile); a slot whose owner died is taken over, and its
// records replayed, by the next process to start. Records are appended as JSON lines to
// numbered segment files in the slot. Appends that arrive while a group's durable write is
// running wait for the next group, so many records share one fsync (group commit); it runs on
// libuv's thread pool, never on the event loop. A segment is deleted once every record in it is
// in the store; whatever is left at start-up (a crash, a SIGKILL, a shutdown with the store
// down) is replayed, and the store skips records it already has.
import { constants, existsSync, fdatasync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { SEGMENT_BYTES, SYNC_INTERVAL_MS } from './journal-defaults.js';
import type { RequestRecord } from './record.js';

const SEGMENT_NAME = /^(\d{12})\.jsonl$/;

// The callback form: FileHandle.datasync() costs a promise, a handle reference and a close guard on
// the event loop for each of up to 100 syncs a second.
const datasyncFd = (fh: FileHandle) => new Promise<void>((resolve, reject) => fdatasync(fh.fd, (err) => (err ? reject(err) : resolve())));

class Segment {
  /** Records in this segment not yet in the store. */
  remaining = 0;
  bytes = 0;
  constructor(readonly file: string, readonly number: number) {}
}

/**
 * `write` (default): an answer ends once its record is in the kernel's page cache; an fdatasync
 * follows in the background, one at a time and at most `syncIntervalMs` apart (default
 * SYNC_INTERVAL_MS), so a record is on disk within that plus one fsync of its answer. Survives the process being killed and any
 * store outage (what the journal is for); a power cut can lose the records of that window. `fsync`: an answer ends only once its
 * record is on disk (survives a power cut), at the cost of the disk's fsync time on every answer:
 * 0.8 ms p50 and 4-50 ms p99 on the disk of docs/benchmarks.md, over the 1 ms budget for the
 * gateway's added latency.
 */
export type JournalSync = 'fsync' | 'write';

export interface JournalOptions {
  /**
   * With `fsync`: writes one group's lines to the segment and resolves once they are on disk.
   * Default: one write to the segment, opened O_DSYNC, so the write and its fdatasync are one
   * trip to the thread pool (a separate fdatasync would be a second trip, and on a busy machine
   * a second wait to be scheduled). Tests pass one that counts calls, or holds them.
   */
  durableWrite?: (fh: FileHandle, data: Buffer) => Promise<unknown>;
  /** With `write`: the background fdatasync (default `fdatasync` on the handle's fd); tests count or hold it. */
  backgroundSync?: (fh: FileHandle) => Promise<unknown>;
  /** With `write`: the longest pause between a write and the fdatasync that covers it (default SYNC_INTERVAL_MS). */
  syncIntervalMs?: number;
  /** A segment is closed and a new one begun once it holds this many bytes (default 4 MiB; tests use less). */
  segmentBytes?: number;
}

/** A record and the segment that holds it (none when the journal is off or could not write it). */
export interface JournalEntry {
  readonly record: RequestRecord;
  readonly segment?: Segment;
}

/** The segment a journaled entry is in (for spilling it out of memory). */
export type JournalSegment = Segment;

export interface RecordJournal {
  /** Resolves once the record is on disk; rejects (and the caller keeps it in memory) if it could not be written. */
  append(record: RequestRecord): Promise<JournalEntry>;
  /** These entries are in the store: their segments can go once nothing else in them is waiting. */
  release(entries: readonly JournalEntry[]): void;
  /**
   * Every record of a segment, read back from disk (for records dropped from memory while the
   * store was down): entries without a segment, so releasing them does not count twice;
   * `releaseCount` gives back the spilled ones once they are stored.
   */
  reread(segment: JournalSegment): JournalEntry[];
  releaseCount(segment: JournalSegment, count: number): void;
  /** Entries left by an earlier run, oldest first. */
  readonly replayed: readonly JournalEntry[];
  /** Journaled records not yet released. */
  readonly waiting: number;
  readonly dir: string | undefined;
  close(): Promise<void>;
}

/** No journal (an in-memory store): records live only in the batch queue. */
export const noJournal: RecordJournal = {
  append: (record) => Promise.resolve({ record }),
  release: () => undefined,
  reread: () => [],
  releaseCount: () => undefined,
  replayed: [],
  waiting: 0,
  dir: undefined,
  close: () => Promise.resolve(),
};

export class FileJournal implements RecordJournal {
  private readonly segments: Segment[] = [];
  private active: { segment: Segment; fh: FileHandle } | undefined;
  private queued: { record: RequestRecord; line: string; resolve: (e: JournalEntry) => void; reject: (err: Error) => void }[] = [];
  private writing: Promise<void> | undefined;
  private nextNumber: number;
  waiting = 0;

  private constructor(
    readonly dir: string,
    readonly replayed: JournalEntry[],
    nextNumber: number,
    old: Segment[],
    private readonly unlock: () => void,
    private readonly sync: JournalSync,
    private readonly durableWrite: (fh: FileHandle, data: Buffer) => Promise<unknown>,
    private readonly backgroundSync: (fh: FileHandle) => Promise<unknown>,
    private readonly syncIntervalMs: number,
    private readonly segmentBytes: number,
  ) {
    this.nextNumber = nextNumber;
    this.segments.push(...old);
    this.waiting = replayed.length;
  }

  /**
   * Locks a slot under `root` (creating it) and reads every record an earlier run left there, and
   * in any other slot whose owner is gone.
   */
  static open(root: string, sync: JournalSync = 'write', opts: JournalOptions = {}): FileJournal {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const slots = readdirSync(root).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    const held: { dir: string; unlock: () => void }[] = [];
    for (const n of slots) {
      const unlock = lockSlot(join(root, String(n)));
      if (unlock) held.push({ dir: join(root, String(n)), unlock });
    }
    let own = held.shift();
    for (let n = 0; !own; n++) {
      if (slots.includes(n)) continue;
      const unlock = lockSlot(join(root, String(n)));
      if (unlock) own = { dir: join(root, String(n)), unlock };
    }
    // Records of slots taken over are replayed from here; their files move into our slot.
    const replayed: JournalEntry[] = [];
    const old: Segment[] = [];
    const ownNames = readdirSync(own.dir).filter((n) => SEGMENT_NAME.test(n)).sort();
    let next = ownNames.length ? Number(SEGMENT_NAME.exec(ownNames.at(-1)!)![1]) + 1 : 1;
    for (const other of held) {
      for (const name of readdirSync(other.dir).filter((n) => SEGMENT_NAME.test(n)).sort()) {
        const moved = join(own.dir, `${String(next++).padStart(12, '0')}.jsonl`);
        writeFileSync(moved, readFileSync(join(other.dir, name)), { mode: 0o600 });
        rmSync(join(other.dir, name));
      }
      rmSync(other.dir, { recursive: true, force: true });
      other.unlock();
    }
    const dir = own.dir;
    const names = readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort();
    for (const name of names) {
      const segment = new Segment(join(dir, name), Number(SEGMENT_NAME.exec(name)![1]));
      for (const line of readFileSync(segment.file, 'utf8').split('\n')) {
        if (!line) continue;
        let record: RequestRecord;
        try {
          record = JSON.parse(line) as RequestRecord;
        } catch {
          continue; // a line torn by a crash was never acknowledged: its answer had not ended
        }
        replayed.push({ record, segment });
        segment.remaining++;
      }
      old.push(segment);
    }
    const journal = new FileJournal(dir, replayed, (old.at(-1)?.number ?? 0) + 1, old, own.unlock, sync, opts.durableWrite ?? ((fh, data) => fh.write(data)), opts.backgroundSync ?? datasyncFd, opts.syncIntervalMs ?? SYNC_INTERVAL_MS, opts.segmentBytes ?? SEGMENT_BYTES);
    for (const s of old) if (s.remaining === 0) void journal.drop(s);
    return journal;
  }

  append(record: RequestRecord): Promise<JournalEntry> {
    return new Promise((resolve, reject) => {
      this.queued.push({ record, line: `${JSON.stringify(record)}\n`, resolve, reject });
      this.writing ??= this.writeQueued();
    });
  }

  /**
   * One write and one fsync for everything queued meanwhile, until nothing is. `writing` is
   * cleared in the same step as the last check for queued records: cleared a promise later (a
   * `.finally` outside), an append made in between, by code that ran when an earlier group was
   * acknowledged, found `writing` still set and was left unwritten, its answer held until some
   * later request's append came to write it.
   */
  private async writeQueued(): Promise<void> {
    try {
      while (this.queued.length) await this.writeGroup();
    } finally {
      this.writing = undefined;
    }
  }

  private async writeGroup(): Promise<void> {
    const group = this.queued;
    this.queued = [];
    try {
      const { segment, fh } = await this.segmentForWrite();
      const data = Buffer.from(group.map((q) => q.line).join(''));
      // fsync: one durable write (O_DSYNC) for the whole group, on the thread pool; the group's
      // answers end only after it.
      // write: in the kernel's page cache, written synchronously (microseconds, cheaper than a
      // thread-pool trip; survives the process, not the machine), fdatasync'd in the background.
      if (this.sync === 'write') {
        writeSync(fh.fd, data);
        this.scheduleSync(fh);
      } else {
        await this.durableWrite(fh, data);
      }
      segment.bytes += data.length;
      segment.remaining += group.length;
      this.waiting += group.length;
      for (const q of group) q.resolve({ record: q.record, segment });
    } catch (err) {
      // A half-written group is a torn line at worst, which replay skips; these records stay in memory.
      await this.closeActive().catch(() => undefined);
      for (const q of group) q.reject(err as Error);
    }
  }

  private async segmentForWrite(): Promise<{ segment: Segment; fh: FileHandle }> {
    if (this.active && this.active.segment.bytes >= this.segmentBytes) {
      const full = this.active.segment;
      await this.closeActive();
      if (full.remaining === 0) void this.drop(full);
    }
    if (!this.active) {
      const number = this.nextNumber++;
      const segment = new Segment(join(this.dir, `${String(number).padStart(12, '0')}.jsonl`), number);
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (this.sync === 'fsync' ? constants.O_DSYNC : 0);
      const fh = await open(segment.file, flags, 0o600);
      this.segments.push(segment);
      this.active = { segment, fh };
    }
    return this.active;
  }

  private syncing: Promise<void> | undefined;
  /** Written since the running background fdatasync began: another is owed. */
  private unsynced = false;

  /**
   * `write` mode: one background fdatasync at a time, each covering every write before it. Writes
   * made while one runs get the next, started at most `syncIntervalMs` after: under load that is
   * one thread-pool trip per interval instead of one per fsync's time, and a quiet moment still
   * ends with everything synced.
   */
  private scheduleSync(fh: FileHandle): void {
    this.unsynced = true;
    this.syncing ??= this.syncWhileWritten(fh);
  }

  /** Cleared in the same step as the last look at `unsynced` (see writeQueued). */
  private async syncWhileWritten(fh: FileHandle): Promise<void> {
    try {
      while (this.unsynced) {
        this.unsynced = false;
        try {
          await this.backgroundSync(fh);
        } catch {
          // A failed sync is retried by the next write's; the records are in the page cache meanwhile.
        }
        if (this.unsynced) await this.pauseBetweenSyncs();
      }
    } finally {
      this.syncing = undefined;
    }
  }

  /** Ends the pause between two background syncs early (set while one is under way). */
  private endPause: (() => void) | undefined;
  /** A segment is being closed: the sync it waits for is made without a pause. */
  private closing = false;

  private pauseBetweenSyncs(): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.syncIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.endPause = done;
    }).finally(() => (this.endPause = undefined));
  }

  /**
   * A segment is closed (full, or at shutdown) once its last writes are synced. Appends wait for
   * that, so the sync owed is made now rather than after the rest of the pause: with a long
   * `syncIntervalMs` every rotation would otherwise hold the answers of that moment for as long.
   */
  private async closeActive(): Promise<void> {
    this.closing = true;
    this.endPause?.();
    try {
      await this.syncing;
      const active = this.active;
      this.active = undefined;
      await active?.fh.close();
    } finally {
      this.closing = false;
    }
  }


  release(entries: readonly JournalEntry[]): void {
    for (const { segment } of entries) if (segment) this.releaseCount(segment, 1);
  }

  releaseCount(segment: Segment, count: number): void {
    segment.remaining -= count;
    this.waiting -= count;
    if (segment.remaining <= 0 && segment !== this.active?.segment) void this.drop(segment);
  }

  reread(segment: Segment): JournalEntry[] {
    const entries: JournalEntry[] = [];
    for (const line of readFileSync(segment.file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        entries.push({ record: JSON.parse(line) as RequestRecord });
      } catch {
        // a torn line: never acknowledged
      }
    }
    return entries;
  }

  private readonly dropping = new Set<Promise<void>>();

  private drop(segment: Segment): Promise<void> {
    const i = this.segments.indexOf(segment);
    if (i !== -1) this.segments.splice(i, 1);
    const done = unlink(segment.file).catch(() => undefined);
    this.dropping.add(done);
    void done.finally(() => this.dropping.delete(done));
    return done;
  }

  /** Waits for writes in progress; keeps every segment with records the store does not have yet. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    const last = this.active?.segment;
    await this.closeActive();
    if (last && last.remaining === 0) await this.drop(last);
    await Promise.all([...this.dropping]);
    this.unlock();
  }
}

/** Slots locked by this process (several journals in one process: tests). */
const heldHere = new Set<string>();

/** Slot locks are refreshed every second; one not refreshed for 5 s belongs to a process that is gone. */
const STALE_MS = 5000;

/**
 * Locks a journal slot; undefined if a live process holds it. A lock left by a process that no
 * longer runs (its pid, recorded in the slot, is gone) is taken over at once rather than after
 * STALE_MS, so a restart right after a crash replays that crash's records.
 */
function lockSlot(dir: string): (() => void) | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockPath = `${dir}.lock`;
  const owner = join(dir, 'owner');
  if (existsSync(lockPath) && existsSync(owner)) {
    const pid = Number(readFileSync(owner, 'utf8'));
    // Our own pid on a slot this process does not hold is an earlier life of it (a container's pid 1).
    if ((pid === process.pid && !heldHere.has(dir)) || (pid !== process.pid && !alive(pid))) rmSync(lockPath, { recursive: true, force: true });
  }
  try {
    const release = lockfile.lockSync(dir, { lockfilePath: lockPath, realpath: false, stale: STALE_MS, update: 1000, onCompromised: () => {} });
    writeFileSync(owner, String(process.pid));
    heldHere.add(dir);
    return () => {
      heldHere.delete(dir);
      try {
        release();
      } catch {
        // already released or compromised: nothing left to give back
      }
    };
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') return undefined;
    throw err;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
