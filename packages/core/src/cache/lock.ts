// Cross-process single flight: one provider call per cache key, however many helpers start at once.
//
// An OS lock (Linux open-file-description fcntl lock, flock on macOS, LockFileEx on Windows) through
// fs-native-extensions: the kernel drops it the instant its holder dies, so there is no staleness to
// guess and no takeover to race. The lock file itself is never deleted while in use, so every
// process always locks the same inode.
import { closeSync, constants, existsSync, fstatSync, openSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { DeadlineError } from '../errors.js';

export interface LockOptions {
  signal: AbortSignal;
  /** Called once when we have to wait for another process. */
  onWait?: () => void;
}

interface OsLock {
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

let osLock: OsLock | undefined;
function loadOsLock(): OsLock {
  // Loaded on first use: only a cache miss takes the lock, and the warm path must load no addon.
  if (!osLock) {
    const require = createRequire(import.meta.url);
    preloadBinding(require);
    osLock = require('fs-native-extensions') as OsLock;
  }
  return osLock;
}

/**
 * fs-native-extensions finds its addon through require-addon, a general resolver (bare-addon-resolve,
 * bare-module-resolve, bare-semver: 15 modules) that cost about 35 ms of CPU on every cache miss,
 * about as much as the rest of a cold vault call over bare Node. The package ships its Node addon at
 * prebuilds/<platform>-<arch>/, the file require-addon picks on glibc Linux, macOS and Windows:
 * when it is there, it is loaded directly and registered as the package's binding module, so the
 * package's own code (index.js) runs on it unchanged. Anything else (Alpine, where require-addon
 * looks for a -musl build; another layout; a failed load) leaves the package to find its addon.
 */
function preloadBinding(require: NodeJS.Require): void {
  try {
    const dir = dirname(require.resolve('fs-native-extensions'));
    const bindingFile = join(dir, 'binding.js');
    const addon = join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'fs-native-extensions.node');
    if (require.cache[bindingFile] || !existsSync(bindingFile) || !existsSync(addon)) return;
    if (process.platform === 'linux' && existsSync('/etc/alpine-release')) return;
    const binding = new Module(bindingFile);
    binding.filename = bindingFile;
    binding.exports = require(addon);
    binding.loaded = true;
    require.cache[bindingFile] = binding;
  } catch {
    // The package's own resolution, below, then decides (and reports) what loads.
  }
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Takes the exclusive lock on `lockPath` (created 0600 if missing, never through a symlink, never
 * someone else's file). Waits for the holder until `signal` aborts. Returns the release function.
 */
export async function acquireLock(lockPath: string, opts: LockOptions): Promise<() => Promise<void>> {
  const lock = loadOsLock();
  const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT | NOFOLLOW, 0o600);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (typeof process.getuid === 'function' && st.uid !== process.getuid())) {
      throw new Error(`${lockPath} is not a lock file of ours`);
    }
    let waited = false;
    while (!lock.tryLock(fd)) {
      if (!waited) {
        waited = true;
        opts.onWait?.();
      }
      // Polling (not the blocking waitForLock) so the deadline can stop the wait; jitter keeps
      // many waiters from polling in lock-step.
      await sleep(5 + Math.random() * 20, opts.signal);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      lock.unlock(fd);
    } finally {
      closeSync(fd);
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = () => reject(new DeadlineError('timed out waiting for another claude-key process to fetch the token'));
    if (signal.aborted) return fail();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      fail();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
