// Runs claude-key from source (tests, development): the same warm path and full CLI as the bundle.
import { helper } from './helper.js';

process.exitCode = await helper.run();
