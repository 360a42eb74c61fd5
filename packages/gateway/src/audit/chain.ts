// The audit hash chain: each record's hash covers its position, the previous hash and its exact text.
import { createHash } from 'node:crypto';
import type { RequestRecord } from '../store/record.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
  body: string;
}

export function chainHash(seq: number, prevHash: string, body: string): string {
  return createHash('sha256').update(`${seq}\n${prevHash}\n${body}`).digest('hex');
}

/** The audited fields in a fixed order, so the text (and so the hash) is stable. */
export function auditBody(r: RequestRecord): string {
  return JSON.stringify({
    time: r.time, requestId: r.requestId, user: r.user, team: r.team, credentialId: r.credentialId,
    model: r.model, format: r.format, upstream: r.upstream, deployment: r.deployment ?? null, status: r.status,
    inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, cacheWriteTokens: r.cacheWriteTokens,
    costUsd: r.costUsd, latencyMs: r.latencyMs, clientAddress: r.clientAddress, userAgent: r.userAgent,
    // Only on refusals, so every other entry's text is as before.
    ...(r.refusal !== undefined ? { refusal: r.refusal } : {}),
    ...(r.content !== undefined ? { content: r.content } : {}),
  });
}

/** Extends the chain from (seq, hash) with the given records. */
export function extendChain(head: { seq: number; hash: string }, records: readonly RequestRecord[]): AuditEntry[] {
  return chainBodies(head, records.map(auditBody));
}

/** Extends the chain from (seq, hash) with bodies already rendered (trust and admin events). */
export function chainBodies(head: { seq: number; hash: string }, bodies: readonly string[]): AuditEntry[] {
  let { seq, hash } = head;
  return bodies.map((body) => {
    const entry = { seq: seq + 1, prevHash: hash, hash: chainHash(seq + 1, hash, body), body };
    ({ seq, hash } = entry);
    return entry;
  });
}

export type VerifyResult = { ok: true; records: number } | { ok: false; records: number; seq: number; problem: string };

/** Walks the chain from the start; reports the first record that was edited, removed or reordered. */
export function verifyChain(entries: Iterable<AuditEntry>, head: { seq: number; hash: string } | undefined): VerifyResult {
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let count = 0;
  for (const e of entries) {
    if (e.seq !== expectedSeq) return { ok: false, records: count, seq: expectedSeq, problem: `record ${expectedSeq} is missing` };
    if (e.prevHash !== prev) return { ok: false, records: count, seq: e.seq, problem: `record ${e.seq} does not follow record ${e.seq - 1}` };
    if (chainHash(e.seq, e.prevHash, e.body) !== e.hash) return { ok: false, records: count, seq: e.seq, problem: `record ${e.seq} was edited` };
    prev = e.hash;
    expectedSeq++;
    count++;
  }
  const last = expectedSeq - 1;
  const headSeq = head?.seq ?? 0;
  if (headSeq !== last || (head && head.hash !== prev)) {
    return { ok: false, records: count, seq: Math.min(last, headSeq) + 1, problem: `the chain ends at record ${last} but the head says ${headSeq}: records were removed from the end` };
  }
  return { ok: true, records: count };
}
