// Loaded with `node --import` by test/cold-path-modules.test.ts: records every module file the binary
// loads to $CLAUDE_KEY_TEST_MODULE_LOG, one path a line: ES modules (the full CLI and its chunks) as
// they load, through a loader hook, and CommonJS files (a native addon and its loader) at exit, from
// the require cache. A test-only tool: the binary itself never writes such a list.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.CLAUDE_KEY_TEST_MODULE_LOG;
if (log) {
  register('./module-log-hooks.mjs', import.meta.url);
  const { cache } = createRequire(import.meta.url);
  process.on('exit', () => appendFileSync(log, Object.keys(cache).map((file) => `${file}\n`).join('')));
}
