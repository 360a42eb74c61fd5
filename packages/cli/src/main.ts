// Entry point of the claude-key binary.
import { helper } from './helper.js';

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
