// Loaded with `node --import` by test/cold-path-modules.test.ts: records every ES module file the binary loads
// (the full CLI and its chunks are ES modules) to $CLAUDE_KEY_TEST_MODULE_LOG, one path a line.
// A test-only tool: the binary itself never writes such a list.
import { register } from 'node:module';

if (process.env.CLAUDE_KEY_TEST_MODULE_LOG) register('./module-log-hooks.mjs', import.meta.url);
