// Entry point of the claude-key binary.
import { helper } from './helper.js';

// Claude Code may show the helper's stderr to the user: library deprecation and runtime warnings
// (e.g. an SDK's Node-version notice) are noise there. They stay visible with --verbose.
if (!process.argv.includes('--verbose')) {
  process.removeAllListeners('warning');
  process.on('warning', () => {});
}

helper.run().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // run() reports its own errors; reaching here means the reporter itself failed.
    process.stderr.write(`claude-key: internal error (${(err as Error)?.name ?? 'unknown'})\n`);
    process.exitCode = 1;
  },
);
