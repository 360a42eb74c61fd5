// The providers every claude-key-based helper has without installing anything.
import type { ProviderEntry } from '../provider.js';

export { builtinProviderNames } from './names.js';

export const builtinProviders: ProviderEntry[] = [
  { name: 'env', summary: 'read the token from an environment variable', load: () => import('./env.js') },
  { name: 'file', summary: 'read the token from a file (keep it mode 0600)', load: () => import('./file.js') },
  { name: 'exec', summary: 'run a command and use what it prints', load: () => import('./exec.js') },
];
