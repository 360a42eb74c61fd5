// Public surface of @claude-key/core: the provider contract, errors, and the helper factory.
export * from './provider.js';
export * from './errors.js';
export { parseDuration, formatDuration, zDuration } from './duration.js';
