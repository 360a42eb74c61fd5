// Built-in provider `file`: the token is the contents of a file (warns when others can read it).
import * as z from 'zod';
import { defineProvider } from '../provider.js';
import { resolve } from 'node:path';
import { expandHome, readSecretFile } from '../secret-ref.js';

export default defineProvider({
  name: 'file',
  summary: 'read the token from a file (keep it mode 0600)',
  positional: 'path',
  options: z.object({
    path: z.string().min(1).describe('the file holding the token; ~ is expanded'),
  }),
  examples: ['claude-key file ~/.config/litellm/key'],
  // A local source: re-read on every call (a file rotated in place is seen at once), by absolute path.
  identity: ({ path }, id) => ({ inputs: { file: id.path(path) }, local: { file: id.path(path) } }),
  async fetch({ path }, ctx) {
    return { token: await readSecretFile(resolve(ctx.cwd, expandHome(path, ctx.env)), ctx.env, ctx.log) };
  },
});
