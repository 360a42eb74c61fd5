// Runs the Store on a worker thread, so PGlite's WebAssembly work never blocks the request event loop.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from './store.js';

// Batched writes can wait; requests cannot. On Linux, lower this thread's priority (nice 19) so a
// busy machine gives the request thread the CPU first. Best effort: elsewhere it simply stays as is.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) setPriority(tid, 19);
} catch {
  // not Linux, or not permitted
}

interface Call {
  id: number;
  method: 'write' | 'report' | 'spendSince' | 'query' | 'applyTrustChange' | 'close';
  args: unknown[];
}

const port = parentPort!;
let store: Store;
try {
  store = await Store.open(workerData as Parameters<typeof Store.open>[0]);
  port.postMessage({ ready: true, kind: store.kind });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message });
}

port.on('message', async ({ id, method, args }: Call) => {
  try {
    let result: unknown;
    if (method === 'write') result = await store.write(args[0] as never);
    else if (method === 'report') result = await store.report(args[0] as never, new Date(args[1] as string));
    else if (method === 'spendSince') result = await store.spendSince(new Date(args[0] as string));
    else if (method === 'query') result = (await store.db.query(args[0] as string, args[1] as unknown[])).rows;
    else if (method === 'applyTrustChange') result = await store.applyTrustChange(args[0] as never, args[1] as never, args[2] as never);
    else if (method === 'close') result = await store.close();
    port.postMessage({ id, result });
    if (method === 'close') port.close();
  } catch (err) {
    port.postMessage({ id, error: (err as Error).message });
  }
});
