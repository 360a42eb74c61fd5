// Built-in provider `env`: the token is the value of an environment variable.
import * as z from 'zod';
import { defineProvider } from '../provider.js';
import { readEnvSecret } from '../secret-ref.js';

export default defineProvider({
  name: 'env',
  summary: 'read the token from an environment variable',
  positional: 'name',
  options: z.object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').describe('the variable to read'),
  }),
  examples: ['claude-key env LITELLM_KEY'],
  // A local source: read on every call, so a changed or unset variable is seen at once.
  identity: ({ name }) => ({ inputs: { env: name }, local: { env: name } }),
  async fetch({ name }, ctx) {
    return { token: readEnvSecret(name, ctx.env) };
  },
});
