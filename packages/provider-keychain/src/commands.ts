// `claude-key keychain set|delete`: manage one entry; the value comes from a no-echo prompt or stdin, never argv.
import { defineCommand, UsageError, NotFoundError } from '@claude-key/core';
import { entryOptions } from './options.js';
import { deleteEntry, describe, writeEntry } from './keyring.js';

export const setCommand = defineCommand({
  summary: 'Store a secret in the OS keychain (read from a hidden prompt, or from stdin when piped)',
  options: entryOptions,
  examples: [
    'claude-key keychain set --service anthropic --account work',
    "pass show anthropic/work | head -n 1 | claude-key keychain set --service anthropic --account work",
  ],
  async run(options, io) {
    const raw = await io.readSecret(`Secret for ${describe(options)}: `);
    // `echo value | ...` ends the value with a newline we must not store. Other lines stay: a
    // `keychain:` reference may hold a PEM key.
    const value = raw.replace(/\r?\n$/, '');
    if (value.trim().length === 0) throw new UsageError('refusing to store an empty secret', { hint: 'type the value at the prompt or pipe it on stdin' });
    await writeEntry(options, value, io.signal);
    io.stdout(`Stored keychain entry ${describe(options)}\n`);
  },
});

export const deleteCommand = defineCommand({
  summary: 'Delete a secret from the OS keychain',
  options: entryOptions,
  examples: ['claude-key keychain delete --service anthropic --account work'],
  async run(options, io) {
    if (!(await deleteEntry(options, io.signal))) throw new NotFoundError(`no keychain entry for ${describe(options)}`);
    io.stdout(`Deleted keychain entry ${describe(options)}\n`);
  },
});
