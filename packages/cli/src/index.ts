// The claude-key helper as a library (for tests and embedding); the binary is src/warm.ts.
export { helper } from './helper.js';
export { providers, providerNames } from './providers.js';
