// Public surface of @claude-key/core: the provider contract, errors, and the helper factory.
export * from './provider.js';
export * from './errors.js';
export { parseDuration, formatDuration } from './duration.js';
export { zDuration, zSecretRef } from './zod-helpers.js';
export { createHelper, type Helper, type HelperSpec } from './helper.js';
export { builtinProviders } from './builtin/index.js';
export { redact, registerSecret } from './redact.js';
export type { HelperIO } from './cli/io.js';
export { cacheDir, configDir } from './paths.js';
export {
  resolveSecretRef,
  readEnvSecret,
  readSecretFile,
  expandHome,
  referenceScheme,
  type SecretScheme,
  type SecretRefContext,
  type SchemeLookup,
} from './secret-ref.js';
export { tokenProblem, MAX_TOKEN_BYTES } from './token.js';
