// Runs a CommonJS script of the bundle (the plain-call bundle, dist/plain/<name>.cjs) through
// vm.Script with a V8 code cache, the way v8-compile-cache does for require() and Node 22's
// module.enableCompileCache does for its own loader, but on Node 20 too and with the functions
// compiled lazily during the call: the cache is made by script.createCachedData() after the call
// ran (docs/benchmarks.md, "Cold path, third follow-up").
//
// The cache holds compiled code of claude-key's own file, never a token. It is only an
// optimisation: whatever is wrong with it (missing, foreign, not ours, truncated, corrupt, made by
// another Node or other V8 flags) makes this a plain compile, never a failed call.
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import Module, { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

export interface CachedScript {
  /** What the script put on module.exports. */
  exports: Record<string, unknown>;
  /** True when V8 took the cached code. */
  readonly cacheUsed: boolean;
  /**
   * Writes the code cache if there was none or V8 refused it. Call it once the script has done its
   * work, so the functions it compiled on the way are in the cache too. Never throws.
   */
  save(): void;
}

const HASH_BYTES = 32;

/**
 * Loads `file` as a CommonJS module (exports, require, module, __filename, __dirname) compiled with
 * the code cache kept in `cacheDir` under `name`; without a cacheDir, a plain compile.
 *
 * A dynamic import() in a script compiled with cached data fails on Node 20 (the embedder's
 * import callback is not restored with it), so the bundle calls `__ckImport(specifier)` instead
 * (scripts/bundle.mjs rewrites its import() calls), which imports from here, relative to `file`.
 */
export function runWithCodeCache(file: string, cacheDir: string | undefined, name: string): CachedScript {
  const bytes = readFileSync(file);
  const key = createHash('sha256')
    .update(bytes)
    .update(`\0${process.version}\0${process.arch}\0${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  // One file per bundle and Node version: a user switching Node versions keeps one cache for each.
  const prefix = `${name}-${process.version}-`;
  const cachePath = cacheDir && join(cacheDir, `${prefix}${key}.bin`);
  const cachedData = cachePath ? readCache(cacheDir, cachePath) : undefined;
  const source = `(function (exports, require, module, __filename, __dirname, __ckImport) {${bytes.toString('utf8')}\n})`;
  const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const cacheUsed = cachedData !== undefined && script.cachedDataRejected !== true;

  const dir = dirname(file);
  const mod = new Module(file);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dir);
  const require = createRequire(file);
  require.cache[file] = mod;
  const importer = (specifier: string): Promise<unknown> => {
    // A Node built-in (`await import('node:http')` in a provider) through require: import() would
    // start the ES module loader, about 8 internal modules, for a module require() has at hand.
    // The same named exports, and `default` as import() has it.
    if (isBuiltin(specifier)) return Promise.resolve().then(() => builtinNamespace(require(specifier)));
    return import(specifier.startsWith('.') ? pathToFileURL(resolve(dir, specifier)).href : specifier);
  };
  (script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, require, mod, file, dir, importer);
  mod.loaded = true;

  return {
    exports: mod.exports as Record<string, unknown>,
    cacheUsed,
    save() {
      if (!cacheDir || !cachePath || cacheUsed) return;
      try {
        writeCache(cacheDir, cachePath, script.createCachedData(), prefix);
      } catch {
        // a read-only or full disk: the next call compiles again
      }
    },
  };
}

function builtinNamespace(mod: object): object {
  return Object.assign(Object.create(mod) as object, { default: mod });
}

/** Ours and private (owner only), or on Windows (no uids, the profile's ACLs) a plain file or directory. */
function isPrivate(st: Stats): boolean {
  if (typeof process.getuid !== 'function') return true;
  return st.uid === process.getuid() && (st.mode & 0o077) === 0;
}

/** The cached data, checked against its own SHA-256 (a torn or flipped file reads as none). */
function readCache(dir: string, path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    const d = lstatSync(dir);
    if (!d.isDirectory() || !isPrivate(d)) return undefined;
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile() || !isPrivate(st) || st.size <= HASH_BYTES) return undefined;
    const buf = readFileSync(fd);
    const data = buf.subarray(HASH_BYTES);
    return createHash('sha256').update(data).digest().equals(buf.subarray(0, HASH_BYTES)) ? data : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Atomically (a private temporary file, then rename), in a private directory; older caches of `prefix` go. */
function writeCache(dir: string, path: string, data: Buffer, prefix: string): void {
  if (!isAbsolute(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const d = lstatSync(dir);
  if (!d.isDirectory() || !isPrivate(d)) return;
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  // One cache per bundle and Node version: another build's is dead weight.
  for (const other of readdirSync(dir)) {
    if (other.startsWith(prefix) && other.endsWith('.bin') && join(dir, other) !== path) rmSync(join(dir, other), { force: true });
  }
}
