// The full claude-key CLI (the ES module bundle), entered from warm.ts when the cache cannot answer.
import { helper } from './helper.js';

export async function main(argv: string[]): Promise<number> {
  quietWarnings(argv);
  return helper.runFull(argv);
}

/**
 * Claude Code may show the helper's stderr to the user: library deprecation and runtime warnings
 * (e.g. an SDK's Node-version notice) are noise there. They stay visible with --verbose.
 */
export function quietWarnings(argv: readonly string[]): void {
  if (!argv.includes('--verbose')) {
    process.removeAllListeners('warning');
    process.on('warning', () => {});
  }
}
