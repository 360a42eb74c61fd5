// Signed checkpoints of the audit chain's head, written outside the database, and the check of a chain against them.
//
// Every `everyRecords` records (and at most every `everyMs` when records flow) the gateway signs
// (Ed25519, a key in a file the database never sees) the chain's head `seq` and `hash`, and
// writes the result as one JSON file to a directory an operator ships to WORM storage. Whoever
// can rewrite the database can recompute every hash in it, but cannot sign a checkpoint: a
// rewritten record at or before a checkpoint, a wiped log, or a log cut short of the newest
// checkpoint no longer matches a signature.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from './chain.js';

export interface Checkpoint {
  seq: number;
  hash: string;
  time: string;
  /** Which key signed: the SHA-256 of its public key (DER SPKI), hex, first 16 characters. */
  keyId: string;
  /** Ed25519 over the text of `checkpointMessage`, base64. */
  signature: string;
}

const FILE = /^checkpoint-(\d{16})\.json$/;

export const checkpointMessage = (c: Pick<Checkpoint, 'seq' | 'hash' | 'time'>) => `claude-key-gateway audit checkpoint v1\n${c.seq}\n${c.hash}\n${c.time}\n`;

function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Reads the signing key (PKCS#8 PEM); creates one (mode 0600) with its public half beside it if the file is absent. */
export function loadOrCreateSigningKey(keyFile: string): KeyObject {
  if (!existsSync(keyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    writeFileSync(`${keyFile}.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  return createPrivateKey(readFileSync(keyFile));
}

/** The public key to verify with: a public key file, or derived from the private key file. */
export function loadVerifyKey(file: string): KeyObject {
  const pem = readFileSync(file, 'utf8');
  return pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
}

export class CheckpointWriter {
  private readonly publicKey: KeyObject;
  private readonly keyId: string;
  private lastSeq = 0;
  private lastAt = 0;

  constructor(
    private readonly dir: string,
    private readonly key: KeyObject,
    private readonly opts: { everyRecords: number; everyMs: number; now?: () => number },
  ) {
    mkdirSync(dir, { recursive: true });
    this.publicKey = createPublicKey(key);
    this.keyId = keyIdOf(this.publicKey);
    this.lastSeq = Math.max(0, ...readCheckpointFiles(dir).map((c) => c.seq));
    this.lastAt = (opts.now ?? Date.now)();
  }

  /** Called with the head after each write; signs it when enough records or time have passed. */
  maybe(head: { seq: number; hash: string } | undefined, force = false): void {
    if (!head || head.seq <= this.lastSeq) return;
    const now = (this.opts.now ?? Date.now)();
    if (!force && head.seq - this.lastSeq < this.opts.everyRecords && now - this.lastAt < this.opts.everyMs) return;
    this.write(head, now);
  }

  write(head: { seq: number; hash: string }, now = (this.opts.now ?? Date.now)()): Checkpoint {
    const time = new Date(now).toISOString();
    const signature = sign(null, Buffer.from(checkpointMessage({ seq: head.seq, hash: head.hash, time })), this.key).toString('base64');
    const checkpoint: Checkpoint = { seq: head.seq, hash: head.hash, time, keyId: this.keyId, signature };
    const file = join(this.dir, `checkpoint-${String(head.seq).padStart(16, '0')}.json`);
    // Written whole or not at all: a reader (or the shipper) never sees half a file.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(checkpoint)}\n`);
    renameSync(`${file}.tmp`, file);
    this.lastSeq = head.seq;
    this.lastAt = now;
    return checkpoint;
  }
}

function readCheckpointFiles(dir: string): Checkpoint[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => FILE.test(n))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Checkpoint);
}

export interface CheckpointReport {
  checkpoints: number;
  /** Newest checkpoint whose signature is good. */
  newest?: Checkpoint;
  problems: string[];
}

/**
 * Checks the stored chain (entries in order, already verified as a chain or not) against every
 * checkpoint in `dir`: signatures, each checkpointed record's hash, and that the log reaches the newest.
 */
export function verifyCheckpoints(dir: string, publicKey: KeyObject, entries: readonly AuditEntry[]): CheckpointReport {
  const problems: string[] = [];
  const checkpoints = readCheckpointFiles(dir);
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const lastSeq = entries.at(-1)?.seq ?? 0;
  let newest: Checkpoint | undefined;
  for (const c of checkpoints) {
    if (!verify(null, Buffer.from(checkpointMessage(c)), publicKey, Buffer.from(c.signature, 'base64'))) {
      problems.push(`checkpoint of record ${c.seq} has a bad signature (forged, edited, or signed by another key)`);
      continue;
    }
    newest = c;
    const entry = bySeq.get(c.seq);
    if (!entry) {
      if (c.seq > lastSeq) continue; // reported once below, against the newest checkpoint
      problems.push(`gap: record ${c.seq}, vouched for by the checkpoint of ${c.time}, is missing`);
    } else if (entry.hash !== c.hash) {
      problems.push(`rewritten: record ${c.seq} differs from its signed checkpoint of ${c.time}; the log was rewritten at or before record ${c.seq}`);
    }
  }
  if (newest && newest.seq > lastSeq) {
    problems.push(
      lastSeq === 0
        ? `wiped: the log is empty but a signed checkpoint of ${newest.time} vouches for ${newest.seq} records`
        : `cut short: the log ends at record ${lastSeq} but a signed checkpoint of ${newest.time} vouches for record ${newest.seq}`,
    );
  }
  return { checkpoints: checkpoints.length, ...(newest ? { newest } : {}), problems };
}
