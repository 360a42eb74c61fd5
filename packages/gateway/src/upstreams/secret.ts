// Resolves the gateway's own upstream key from a reference: env:NAME, file:/path, profile:NAME, or a literal.
//
// `profile:NAME` runs `claude-key --profile NAME`, so the gateway can read its secret from
// anything claude-key supports (Vault, a keychain, a cloud secret manager). Values from files
// and profiles are re-read after a while, in the background, so a rotated key is picked up
// without a restart and without a request waiting for the read; a failed read keeps the last good value.
import { execFile } from 'node:child_process';
import { ClaudeKeyError, UnreachableError, isClaudeKeyError, resolveSecretRef } from '@claude-key/core';

export interface SecretSource {
  get(): Promise<string>;
  /** Forget the cached value (e.g. the upstream said 401) so the next get() re-reads it. */
  invalidate(): void;
}

const REREAD_MS = 5 * 60_000;
const RETRY_MS = 30_000;

export function secretSource(
  ref: string,
  opts: { env: NodeJS.ProcessEnv; claudeKeyBinary: string; now?: () => number; field: string; warn?: (message: string) => void },
): SecretSource {
  const now = opts.now ?? Date.now;
  let cached: { value: string; at: number } | undefined;
  let loading: Promise<string> | undefined;

  const load = async (): Promise<string> => {
    if (ref.startsWith('profile:')) return runClaudeKey(opts.claudeKeyBinary, ref.slice(8), opts.field);
    // env: and file: as claude-key reads them (core's one resolver: ~ expanded, trimmed, exit 6 when missing).
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`claude-key-gateway: warning: ${opts.field}: ${m}\n`));
    try {
      return await resolveSecretRef(ref, { env: opts.env, warn });
    } catch (err) {
      if (!isClaudeKeyError(err)) throw err;
      throw new ClaudeKeyError(err.code, err.exitCode, `${opts.field}: ${err.message}`, { hint: err.hint, cause: err });
    }
  };

  const rereads = /^(file|profile):/.test(ref);
  const refresh = (): Promise<string> =>
    (loading ??= load().then(
      (value) => ((cached = { value, at: now() }), (loading = undefined), value),
      (err) => {
        loading = undefined;
        // A failed re-read keeps the last good value and tries again in a while.
        if (cached) cached.at = now() - REREAD_MS + RETRY_MS;
        throw err;
      },
    ));

  return {
    async get() {
      if (!cached) return refresh();
      // Stale: re-read off the request path; this request and those meanwhile use the last good value.
      if (rereads && now() - cached.at >= REREAD_MS) void refresh().catch(() => undefined);
      return cached.value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

function runClaudeKey(binary: string, profile: string, field: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--profile', profile], { timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      // stderr is claude-key's own redacted one-liner; stdout is the secret and is never echoed.
      if (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${binary} not found` : `exit code ${err.code ?? 'unknown'}`;
        return reject(new UnreachableError(`${field}: claude-key --profile ${profile} failed (${reason})`));
      }
      const token = stdout.trim();
      if (!token) return reject(new UnreachableError(`${field}: claude-key --profile ${profile} printed nothing`));
      resolve(token);
    });
  });
}
