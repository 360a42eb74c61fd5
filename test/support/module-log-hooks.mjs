// The loader hook behind module-log.mjs (runs on Node's hooks thread).
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(process.env.CLAUDE_KEY_TEST_MODULE_LOG, `${fileURLToPath(url)}\n`);
  return nextLoad(url, context);
}
