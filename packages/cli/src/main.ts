// Runs claude-key from source (tests, development): the same warm path and full CLI as the bundle.
import { helper } from './helper.js';

const code = await helper.run();
// The entry owns the exit (see warm.ts): nothing left running may outlive the answer.
process.stdout.write('', () => process.exit(code));
