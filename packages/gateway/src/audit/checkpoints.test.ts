// Signed checkpoints expose what a hash chain alone cannot: a tail rewritten with recomputed hashes, a wipe, a cut, a gap.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { testRecord } from '../test-support/records.js';
import { extendChain, GENESIS_HASH, verifyChain, type AuditEntry } from './chain.js';
import { CheckpointWriter, loadOrCreateSigningKey, loadVerifyKey, verifyCheckpoints } from './checkpoints.js';

/** A chain of n records, with a checkpoint every 5. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ckg-checkpoints-'));
  const key = loadOrCreateSigningKey(join(dir, 'audit.key'));
  const writer = new CheckpointWriter(join(dir, 'cp'), key, { everyRecords: 5, everyMs: 3_600_000, now: () => Date.UTC(2026, 11, 1) });
  const records = Array.from({ length: 12 }, (_, i) => testRecord(i + 1));
  const entries: AuditEntry[] = [];
  for (let i = 0; i < records.length; i += 3) {
    const head = entries.at(-1) ?? { seq: 0, hash: GENESIS_HASH };
    entries.push(...extendChain(head, records.slice(i, i + 3)));
    writer.maybe(entries.at(-1)); // a store write of 3 records, then the writer decides
  }
  const pub = loadVerifyKey(join(dir, 'audit.key.pub'));
  return { dir, cpDir: join(dir, 'cp'), records, entries, pub, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('signed audit checkpoints', () => {
  it('writes checkpoints every N records and an intact log matches them', () => {
    const t = setup();
    assert.deepEqual(readdirSync(t.cpDir).sort(), ['checkpoint-0000000000000006.json', 'checkpoint-0000000000000012.json']);
    const report = verifyCheckpoints(t.cpDir, t.pub, t.entries);
    assert.deepEqual(report.problems, []);
    assert.equal(report.newest?.seq, 12);
    t.cleanup();
  });

  it('reports a tail rewritten with recomputed hashes, which the chain check alone accepts', () => {
    const t = setup();
    const forged = t.records.slice(3).map((r) => ({ ...r, user: 'mallory' }));
    const rewritten = [...t.entries.slice(0, 3), ...extendChain(t.entries[2]!, forged)];
    assert.equal(verifyChain(rewritten, rewritten.at(-1)).ok, true, 'the chain itself is consistent');
    const report = verifyCheckpoints(t.cpDir, t.pub, rewritten);
    assert.match(report.problems.join('\n'), /rewritten: record 6 differs from its signed checkpoint/);
    t.cleanup();
  });

  it('reports a wipe, a log cut short, and a missing checkpointed record', () => {
    const t = setup();
    assert.match(verifyCheckpoints(t.cpDir, t.pub, []).problems.join('\n'), /wiped: the log is empty but a signed checkpoint .* vouches for 12 records/);
    assert.match(verifyCheckpoints(t.cpDir, t.pub, t.entries.slice(0, 8)).problems.join('\n'), /cut short: the log ends at record 8 .* record 12/);
    const gap = t.entries.filter((e) => e.seq !== 6);
    assert.match(verifyCheckpoints(t.cpDir, t.pub, gap).problems.join('\n'), /gap: record 6, vouched for by the checkpoint of .*, is missing/);
    t.cleanup();
  });

  it('refuses a checkpoint edited to match a rewrite, or signed by another key', () => {
    const t = setup();
    const file = join(t.cpDir, 'checkpoint-0000000000000012.json');
    const cp = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...cp, hash: 'f'.repeat(64) }));
    assert.match(verifyCheckpoints(t.cpDir, t.pub, t.entries).problems.join('\n'), /checkpoint of record 12 has a bad signature/);
    const other = generateKeyPairSync('ed25519').publicKey;
    assert.equal(verifyCheckpoints(t.cpDir, other, t.entries).problems.filter((p) => /bad signature/.test(p)).length, 2);
    t.cleanup();
  });
});
