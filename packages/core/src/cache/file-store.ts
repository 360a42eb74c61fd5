// The on-disk cache: one 0600 JSON file per key in a 0700 directory of the user's own, never through a symlink.
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { parseEntry, type CacheEntry } from './entry.js';
import { parseIdentityRecord, type IdentityRecord } from '../identity.js';

export interface ServedRecord {
  /** Caller identity: "<pid>:<start time>" of the Claude Code process. */
  caller: string;
  tokenHash: string;
  at: number;
}

/** The cache cannot be used (no home, foreign or loose directory, read-only, path too long). */
export class CacheUnavailableError extends Error {
  override name = 'CacheUnavailableError';
}

const MAX_SERVED = 64;
// O_NOFOLLOW is 0 on Windows; symlinks there need privileges to create, so lstat checks suffice.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;

export class FileStore {
  private dirState: 'unknown' | 'ok' | 'missing' = 'unknown';

  /** `dir` undefined: no usable cache location (e.g. HOME unset); every read misses, every write fails. */
  constructor(readonly dir: string | undefined) {}

  /**
   * Why this directory may not hold secrets, or undefined when it may. Only a real directory
   * (not a symlink) owned by this user and writable by no one else qualifies: a shared or planted
   * directory could hand us a token or read ours.
   */
  private checkDir(): string | undefined {
    if (this.dir === undefined) return 'no cache directory (HOME and XDG_CACHE_HOME are unset)';
    let st;
    try {
      st = lstatSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.dirState = 'missing';
        return undefined;
      }
      return `cannot use ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    if (st.isSymbolicLink()) return `${this.dir} is a symlink`;
    if (!st.isDirectory()) return `${this.dir} is not a directory`;
    if (uid !== undefined && st.uid !== uid) return `${this.dir} belongs to another user (uid ${st.uid})`;
    if (process.platform !== 'win32' && (st.mode & 0o022) !== 0) {
      return `${this.dir} is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
    }
    this.dirState = 'ok';
    return undefined;
  }

  /** Readable entries exist only in a directory that passed the checks. */
  private readable(): boolean {
    if (this.dirState === 'ok') return true;
    return this.checkDir() === undefined && (this.dirState as string) === 'ok';
  }

  /**
   * Makes sure the directory exists and may hold secrets. Creates it 0700 when missing; never
   * changes the mode or owner of a directory it did not create. Throws CacheUnavailableError.
   */
  ensureDir(): string {
    if (this.dirState === 'ok') return this.dir!;
    const problem = this.checkDir();
    if (problem) throw new CacheUnavailableError(problem);
    if (this.dirState === 'missing') {
      try {
        mkdirSync(dirname(this.dir!), { recursive: true, mode: 0o700 });
        mkdirSync(this.dir!, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new CacheUnavailableError(`cannot create ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
      this.dirState = 'unknown';
      const again = this.checkDir();
      if (again || (this.dirState as string) !== 'ok') throw new CacheUnavailableError(again ?? `cannot create ${this.dir}`);
    }
    return this.dir!;
  }

  entryPath(key: string): string {
    return join(this.dir ?? '', `${key}.json`);
  }

  lockPath(key: string): string {
    return join(this.dir ?? '', `${key}.lock`);
  }

  private servedPath(key: string): string {
    return join(this.dir ?? '', `${key}.served.json`);
  }

  private identityPath(key: string): string {
    return join(this.dir ?? '', `${key}.id.json`);
  }

  /** A file of ours in the checked directory, or undefined (missing, a symlink, someone else's). */
  private readOwn(path: string): string | undefined {
    if (!this.readable()) return undefined;
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | NOFOLLOW);
    } catch {
      return undefined;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return undefined;
      return readFileSync(fd, 'utf8');
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Replaces `path` atomically: a new 0600 temp file (O_EXCL, O_NOFOLLOW, so nothing planted is
   * written through), fsync, rename. The new file is ours; a foreign file there is replaced, never
   * chowned to its old owner. Hand-written because write-file-atomic resolves symlinks and keeps the
   * previous owner, the two things a cache of secrets must not do.
   */
  private writeOwn(path: string, text: string, durable = true): void {
    this.ensureDir();
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
    try {
      try {
        writeSync(fd, text);
        if (durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** Another file of the cache directory (the config snapshot), with the same checks as entries. */
  readNamed(name: string): string | undefined {
    return this.readOwn(join(this.dir ?? '', name));
  }

  writeNamed(name: string, text: string): void {
    this.writeOwn(join(this.dir ?? '', name), text);
  }

  /** The entry for `key`, or undefined when missing, corrupt, truncated, foreign or of another version. */
  read(key: string): CacheEntry | undefined {
    const text = this.readOwn(this.entryPath(key));
    return text === undefined ? undefined : parseEntry(text, key);
  }

  async write(entry: CacheEntry): Promise<void> {
    this.writeOwn(this.entryPath(entry.key), JSON.stringify(entry));
  }

  /** The identity an invocation resolved to last time (written by the full CLI, read by the warm path). */
  readIdentity(invocationKey: string): IdentityRecord | undefined {
    const text = this.readOwn(this.identityPath(invocationKey));
    return text === undefined ? undefined : parseIdentityRecord(text, invocationKey);
  }

  writeIdentity(record: IdentityRecord): void {
    const path = this.identityPath(record.key);
    if (this.readOwn(path) === JSON.stringify(record)) return;
    // No fsync (one of the two on a cold call): a record lost or torn in a crash reads as missing
    // (parseIdentityRecord), which costs the next call one trip through the full CLI, nothing else.
    this.writeOwn(path, JSON.stringify(record), false);
  }

  async delete(key: string): Promise<void> {
    if (!this.readable()) return;
    for (const path of [this.entryPath(key), this.servedPath(key)]) rmSync(path, { force: true });
  }

  /** Every readable entry, for `cache status`. */
  list(): CacheEntry[] {
    if (!this.readable()) return [];
    let names: string[];
    try {
      names = readdirSync(this.dir!);
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

  /**
   * Removes every cache file this store owns (entries, identities, served records, snapshots).
   * Lock files stay: removing one in use would let a newcomer lock a fresh inode beside its holder.
   */
  clear(): number {
    if (!this.readable()) return 0;
    let names: string[];
    try {
      names = readdirSync(this.dir!);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!/^[0-9a-f]{40}(\.json|\.served\.json|\.id\.json)$/.test(name) && !name.startsWith('config-')) continue;
      try {
        unlinkSync(join(this.dir!, name));
      } catch {
        continue;
      }
      if (/^[0-9a-f]{40}\.json$/.test(name)) removed++;
    }
    return removed;
  }

  readServed(key: string): ServedRecord[] {
    try {
      const data = JSON.parse(this.readOwn(this.servedPath(key)) ?? '[]') as unknown;
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
   * dropped. Runs on the warm path without the lock: losing one record to a concurrent writer only
   * delays refusal detection by one 401. The file holds hashes and pids, no secret.
   */
  recordServed(key: string, record: ServedRecord): void {
    const kept = this.readServed(key).filter((r) => r.tokenHash === record.tokenHash && r.caller !== record.caller);
    kept.push(record);
    // No fsync: this is the warm path, and a lost record costs at most one extra 401.
    this.writeOwn(this.servedPath(key), JSON.stringify(kept.slice(-MAX_SERVED)), false);
  }
}
