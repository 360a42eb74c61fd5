// Audit commands' work: verify the chain, export it as JSON Lines.
import { verifyChain, type AuditEntry, type VerifyResult } from './chain.js';
import type { Store } from '../store/store.js';

export async function verifyAudit(store: Store): Promise<VerifyResult> {
  return (await verifyAuditEntries(store)).result;
}

/** The chain check, and the entries it read (for the checkpoint check). */
export async function verifyAuditEntries(store: Store): Promise<{ result: VerifyResult; entries: AuditEntry[] }> {
  const entries: AuditEntry[] = [];
  for await (const e of store.auditEntries()) entries.push(e);
  return { result: verifyChain(entries, await store.auditHead()), entries };
}

/** One JSON object per line: the audited fields plus seq, prevHash and hash, so a copy can be re-verified. */
export async function exportAudit(store: Store, write: (line: string) => void): Promise<number> {
  let n = 0;
  for await (const e of store.auditEntries()) {
    write(`${JSON.stringify({ seq: e.seq, prevHash: e.prevHash, hash: e.hash, record: JSON.parse(e.body) })}\n`);
    n++;
  }
  return n;
}
