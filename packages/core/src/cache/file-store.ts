// The on-disk cache: one 0600 JSON file per key in a 0700 directory, replaced atomically.
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEntry, type CacheEntry } from './entry.js';

export interface ServedRecord {
  /** Caller identity: "<pid>:<start time>" of the Claude Code process. */
  caller: string;
  tokenHash: string;
  at: number;
}

const MAX_SERVED = 64;

export class FileStore {
  constructor(readonly dir: string) {}

  /** Creates the directory 0700, and tightens it if someone loosened it. */
  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const mode = statSync(this.dir).mode & 0o777;
    if (mode !== 0o700 && process.platform !== 'win32') chmodSync(this.dir, 0o700);
  }

  entryPath(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  lockPath(key: string): string {
    return join(this.dir, `${key}.lock`);
  }

  private servedPath(key: string): string {
    return join(this.dir, `${key}.served.json`);
  }

  /** The entry for `key`, or undefined when missing, corrupt, truncated or of another version. */
  read(key: string): CacheEntry | undefined {
    let text: string;
    try {
      text = readFileSync(this.entryPath(key), 'utf8');
    } catch {
      return undefined;
    }
    return parseEntry(text, key);
  }

  async write(entry: CacheEntry): Promise<void> {
    this.ensureDir();
    // Loaded here, not at the top: the warm path never writes an entry and must not pay for it.
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(this.entryPath(entry.key), JSON.stringify(entry), { mode: 0o600 });
  }

  async delete(key: string): Promise<void> {
    for (const path of [this.entryPath(key), this.servedPath(key)]) rmSync(path, { force: true });
  }

  /** Every readable entry, for `cache status`. */
  list(): CacheEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: CacheEntry[] = [];
    for (const name of names) {
      const m = /^([0-9a-f]{40})\.json$/.exec(name);
      const entry = m && this.read(m[1]!);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Removes every cache file this store owns (entries, served records, stale locks). */
  clear(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!/^[0-9a-f]{40}(\.json|\.served\.json|\.lock)$/.test(name) && !name.startsWith('config-')) continue;
      rmSync(join(this.dir, name), { recursive: true, force: true });
      if (name.endsWith('.json') && !name.endsWith('.served.json') && !name.startsWith('config-')) removed++;
    }
    return removed;
  }

  readServed(key: string): ServedRecord[] {
    try {
      const data = JSON.parse(readFileSync(this.servedPath(key), 'utf8')) as unknown;
      if (!Array.isArray(data)) return [];
      return data.filter(
        (r): r is ServedRecord =>
          typeof r?.caller === 'string' && typeof r?.tokenHash === 'string' && typeof r?.at === 'number',
      );
    } catch {
      return [];
    }
  }

  /**
   * Records that `caller` was handed the token with `tokenHash`. Records for other tokens are
   * dropped. This runs on the warm path, so it is a plain temp-file-and-rename (atomic on POSIX)
   * without the lock or fsync, rather than loading write-file-atomic: losing one record only
   * delays refusal detection by one 401. The file holds hashes and pids, no secret.
   */
  recordServed(key: string, record: ServedRecord): void {
    const kept = this.readServed(key).filter((r) => r.tokenHash === record.tokenHash && r.caller !== record.caller);
    kept.push(record);
    this.ensureDir();
    const path = this.servedPath(key);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(kept.slice(-MAX_SERVED)), { mode: 0o600 });
    renameSync(tmp, path);
  }
}
