// The record journal: what an earlier run left is replayed; segments go once the store has their records.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { testRecord } from '../test-support/records.js';
import { BatchRecorder } from '../usage/recorder.js';
import { FileJournal } from './journal.js';
import type { RequestRecord } from './record.js';

/** Segment files in every slot of a journal directory. */
const segments = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.endsWith('.jsonl'));

/** Wraps `op` so that each call is counted and waits until the test runs `held.shift()!()`. */
function heldCalls<A extends unknown[]>(op: (...args: A) => Promise<unknown>) {
  const held: (() => void)[] = [];
  let calls = 0;
  const call = (...args: A): Promise<unknown> => {
    calls++;
    return new Promise((resolve, reject) => held.push(() => void op(...args).then(resolve, reject)));
  };
  return { held, call, count: () => calls };
}

describe('record journal', () => {
  it('replays records an earlier run did not release, skipping a line torn by a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-journal-'));
    const first = FileJournal.open(dir);
    const entries = await Promise.all([testRecord(1), testRecord(2), testRecord(3)].map((r) => first.append(r)));
    first.release([entries[0]!]);
    await first.close();
    appendFileSync(join(dir, segments(dir)[0]!), '{"requestId":"torn'); // the process died mid-write

    const second = FileJournal.open(dir);
    assert.deepEqual(second.replayed.map((e) => e.record.requestId).sort(), entries.map((e) => e.record.requestId).sort());
    assert.equal(second.waiting, 3, 'release is not persisted: the store skips what it already has');
    second.release(second.replayed);
    await second.close();
    assert.deepEqual(segments(dir), [], 'a fully released journal leaves no file');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what the store refused at shutdown and reports how many records wait', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-recorder-'));
    let up = false;
    const stored: RequestRecord[] = [];
    const sink = {
      async write(records: readonly RequestRecord[]) {
        if (!up) throw new Error('connection refused');
        stored.push(...records);
      },
    };
    const errors: number[] = [];
    const recorder = new BatchRecorder(sink, { intervalMs: 60_000, batchSize: 100, journal: FileJournal.open(dir), onError: (_e, waiting) => errors.push(waiting) });
    await Promise.all([testRecord(1), testRecord(2)].map((r) => recorder.add(r)));
    await assert.rejects(recorder.flush(), /connection refused/);
    assert.equal(await recorder.close(), 2);
    assert.deepEqual(errors.slice(0, 1), [2]);

    up = true;
    const next = new BatchRecorder(sink, { intervalMs: 60_000, batchSize: 100, journal: FileJournal.open(dir), onError: () => undefined });
    assert.equal(next.pending, 2);
    assert.equal(await next.close(), 0);
    assert.equal(stored.length, 2);
    assert.deepEqual(segments(dir), []);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each live process its own slot and takes over the slot of one that died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-slots-'));
    const a = FileJournal.open(dir);
    const b = FileJournal.open(dir);
    assert.notEqual(a.dir, b.dir, 'two live journals never share segment files');
    await a.append(testRecord(1));
    await b.append(testRecord(2));
    // a's process dies: its lock stays behind with the pid of a process that no longer exists
    const { writeFileSync } = await import('node:fs');
    await a.close();
    writeFileSync(join(a.dir, 'owner'), '2147483646');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(`${a.dir}.lock`, { recursive: true });
    const c = FileJournal.open(dir);
    assert.deepEqual(c.replayed.length, 1, 'the dead slot is replayed, the live one is left alone');
    await Promise.all([b.close(), c.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds at most maxQueued records in memory while the store is down, and stores every record once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-spill-'));
    let up = false;
    const stored = new Map<string, number>();
    const sink = {
      async write(records: readonly RequestRecord[]) {
        if (!up) throw new Error('connection refused');
        for (const r of records) if (!stored.has(r.requestId)) stored.set(r.requestId, stored.size); // the store skips known ids
      },
    };
    const recorder = new BatchRecorder(sink, { intervalMs: 60_000, batchSize: 4, maxQueued: 5, journal: FileJournal.open(dir), onError: () => undefined });
    const records = Array.from({ length: 23 }, (_, i) => testRecord(i + 1));
    let most = 0;
    for (const r of records) {
      await recorder.add(r);
      most = Math.max(most, recorder.queued);
    }
    await assert.rejects(recorder.flush());
    assert.equal(most, 5, 'the rest waits in the journal only');
    assert.equal(recorder.pending, 23);

    up = true;
    assert.equal(await recorder.close(), 0);
    assert.deepEqual([...stored.keys()].sort(), records.map((r) => r.requestId).sort());
    assert.deepEqual(segments(dir), [], 'every segment given back once its records are stored');
    rmSync(dir, { recursive: true, force: true });
  });
  it('lets concurrent appends share fsyncs (group commit) and acknowledges no record before its fsync is done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-group-'));
    // Every durable write (a write and its fsync) the journal asks for waits here until the test lets it run.
    const durable = heldCalls((fh: FileHandle, data: Buffer) => fh.write(data));
    const { held } = durable;
    const journal = FileJournal.open(dir, 'fsync', { durableWrite: durable.call });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const untilHeld = async () => {
      while (!held.length) await turn();
    };
    const N = 50;
    const acked = new Set<number>();
    const appended = Array.from({ length: N }, (_, i) => journal.append(testRecord(i)).then(() => acked.add(i)));

    await untilHeld();
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(acked.size, 0, 'nothing is acknowledged while the first fsync is outstanding');
    held.shift()!();
    await untilHeld(); // the records queued meanwhile form the next group, with its own fsync
    for (let i = 0; i < 5; i++) await turn();
    assert.deepEqual([...acked], [0], 'only the first group is acknowledged; the rest wait for their fsync');
    held.shift()!();
    await Promise.all(appended);
    assert.equal(acked.size, N);
    assert.equal(durable.count(), 2, `${N} concurrent appends share fsyncs: one for the first record, one for the ${N - 1} queued behind it`);
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it('write mode: acknowledges at once, syncs in the background one at a time, and syncs again for writes made during a sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-bgsync-'));
    // Each background fdatasync waits here until the test lets it finish.
    const background = heldCalls((fh: FileHandle) => fh.datasync());
    const { held } = background;
    const journal = FileJournal.open(dir, 'write', { backgroundSync: background.call, syncIntervalMs: 10 });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await journal.append(testRecord(1)); // acknowledged with its sync still outstanding
    assert.equal(background.count(), 1);
    await Promise.all([2, 3, 4].map((i) => journal.append(testRecord(i))));
    assert.equal(background.count(), 1, 'one background sync at a time');
    held.shift()!();
    // The three written during the first sync get a second one, after at most syncIntervalMs.
    for (let i = 0; i < 200 && background.count() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(background.count(), 2, 'writes made during a sync are synced by the next');
    held.shift()!();
    for (let i = 0; i < 10; i++) await turn();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(background.count(), 2, 'nothing written since: no further sync');
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it('write mode: a full segment is closed without waiting out the pause between background syncs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-rotate-'));
    let syncs = 0;
    // A pause far longer than the test may take: a rotation that waited it out would time out.
    const journal = FileJournal.open(dir, 'write', { syncIntervalMs: 60_000, segmentBytes: 1_000, backgroundSync: (fh) => (syncs++, fh.datasync()) });
    const started = Date.now();
    await journal.append(testRecord(1)); // starts the first background sync
    await new Promise((resolve) => setTimeout(resolve, 50)); // ... which ends; nothing is owed
    for (let i = 2; i <= 12; i++) await journal.append(testRecord(i)); // owes a sync (the pause begins), then fills segments
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 10_000, `appends across full segments took ${elapsed} ms`);
    assert.ok(readdirSync(dir, { recursive: true }).filter((n) => String(n).endsWith('.jsonl')).length >= 3, 'segments were rotated');
    assert.ok(syncs >= 3, `each closed segment was synced first (${syncs} syncs)`);
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it('writes an append made while an earlier group is acknowledged, without waiting for a later append', async () => {
    for (const mode of ['write', 'fsync'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'ckg-chained-'));
      const journal = FileJournal.open(dir, mode);
      // The second record is appended by code that runs when the first is acknowledged (as an
      // answer's end can start another request's accounting). Nothing else is appended after it.
      const second = journal.append(testRecord(1)).then(() => journal.append(testRecord(2)));
      const timedOut = new Promise((resolve) => setTimeout(resolve, 2000, 'timed out')).then(String);
      assert.notEqual(await Promise.race([second.then(() => 'written'), timedOut]), 'timed out', `${mode}: the second record was left unwritten`);
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
