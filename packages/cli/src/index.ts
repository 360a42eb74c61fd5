// The claude-key helper as a library (for tests and embedding); the binary is src/main.ts.
export { helper, providers } from './helper.js';
