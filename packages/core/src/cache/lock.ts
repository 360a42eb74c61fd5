// Cross-process single flight: one provider call per cache key, however many helpers start at once.
import lockfile from 'proper-lockfile';
import { DeadlineError } from '../errors.js';

/** A holder that stops refreshing its lock (crashed, killed) loses it after this long. */
export const STALE_LOCK_MS = 4000;

export interface LockOptions {
  signal: AbortSignal;
  /** Called once when we have to wait for another process. */
  onWait?: () => void;
}

/**
 * Takes the lock at `lockPath` (a directory created atomically by proper-lockfile, refreshed every
 * second while held). Waits for other holders until `signal` aborts. A lock whose holder died is
 * taken over after STALE_LOCK_MS. Returns the release function.
 */
export async function acquireLock(targetPath: string, lockPath: string, opts: LockOptions): Promise<() => Promise<void>> {
  let waited = false;
  for (;;) {
    try {
      return await lockfile.lock(targetPath, {
        lockfilePath: lockPath,
        realpath: false,
        stale: STALE_LOCK_MS,
        update: 1000,
        retries: 0,
        // Losing the lock mid-fetch (clock jump, suspended laptop) is harmless here: the worst
        // case is a second provider call. The default would throw from a timer and crash.
        onCompromised: () => {},
      });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ELOCKED') throw err;
    }
    if (!waited) {
      waited = true;
      opts.onWait?.();
    }
    // Jitter keeps 32 waiters from polling in lock-step.
    await sleep(10 + Math.random() * 30, opts.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new DeadlineError('timed out waiting for another claude-key process to fetch the token'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DeadlineError('timed out waiting for another claude-key process to fetch the token'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
