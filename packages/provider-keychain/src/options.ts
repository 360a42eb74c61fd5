// The options that name one keychain entry, shared by the provider and its set/delete commands.
import * as z from 'zod';

export const entryOptions = z.object({
  service: z.string().min(1).describe('Keychain service name (Secret Service attribute "service", macOS "Where", Windows target prefix)'),
  account: z.string().min(1).describe('Keychain account (user name) under that service'),
});
