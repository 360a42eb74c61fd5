// Zod building blocks shared by providers: durations, secret references, repeatable key=value flags.
import * as z from 'zod';
import { parseDuration } from './duration.js';

/** A zod field for durations: accepts "30s", "5m", 300 (seconds); outputs milliseconds. */
export function zDuration(description?: string) {
  const schema = z
    .union([z.number(), z.string()])
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; use e.g. 30s, 5m, 1h or a number of seconds` });
        return z.NEVER;
      }
      return ms;
    });
  return description ? schema.describe(description) : schema;
}

/**
 * A reference to secret material: `env:NAME`, `file:/path`, `profile:NAME`, or a scheme the helper
 * registers (claude-key registers provider-keychain's `keychain:service/account`).
 */
export function zSecretRef(description: string) {
  return z.string().min(1).describe(`${description} (a reference: env:NAME, file:/path, profile:NAME, or a scheme such as keychain:service/account)`);
}
