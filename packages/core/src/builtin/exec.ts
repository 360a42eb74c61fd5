// Built-in provider `exec`: runs a command and takes its stdout (plain, or JSON with an expiry) as the token.
import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import * as z from 'zod';
import { defineProvider } from '../provider.js';
import { AuthError, ConfigError, UnreachableError } from '../errors.js';
import { redact } from '../redact.js';

const MAX_OUTPUT = 1 << 20;

export interface ExecOutput {
  token: string;
  expiresAt?: number;
}

/**
 * Plain stdout is the token. JSON stdout may carry `token` (or `access_token`, `api_key`) and an
 * expiry as `expires_at` (ISO 8601 or epoch seconds) or `expires_in` (seconds from now).
 */
export function parseExecOutput(stdout: string, now: number): ExecOutput {
  const text = stdout.trim();
  if (!text.startsWith('{')) return { token: text };
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError('the command printed something that starts like JSON but does not parse', {
      hint: 'print either the bare token or {"token": "...", "expires_at": "..."}',
    });
  }
  const token = [data.token, data.access_token, data.api_key].find((v): v is string => typeof v === 'string');
  if (!token) throw new ConfigError('the command printed JSON without a "token" field');
  const out: ExecOutput = { token };
  const at = data.expires_at ?? data.expiresAt;
  if (typeof at === 'number') out.expiresAt = at > 1e12 ? at : at * 1000;
  else if (typeof at === 'string') {
    const parsed = /^\d+$/.test(at) ? Number(at) * 1000 : Date.parse(at);
    if (Number.isNaN(parsed)) throw new ConfigError(`the command printed an unreadable expires_at "${at}"`, { hint: 'use ISO 8601 or epoch seconds' });
    out.expiresAt = parsed;
  } else if (typeof data.expires_in === 'number') out.expiresAt = now + data.expires_in * 1000;
  return out;
}

export default defineProvider({
  name: 'exec',
  summary: 'run a command and use what it prints (plain token, or JSON {token, expires_at})',
  positional: 'command',
  options: z.object({
    command: z.array(z.string()).min(1, 'give the command after --, e.g. claude-key exec -- vault kv get ...').describe('the command and its arguments, after --'),
    cwd: z.string().optional().describe('working directory for the command'),
  }),
  examples: [
    'claude-key exec --max-age 300 -- vault kv get -field=api_key secret/litellm/claude-code',
    'claude-key exec -- ./mint-token.sh --json',
  ],
  // The command runs in a working directory and may read files relative to it: both name the token.
  identity: ({ command, cwd }, id) => ({ inputs: { command, cwd: id.path(cwd ?? '.') } }),
  fetch({ command, cwd }, ctx) {
    const [file, ...args] = command;
    return new Promise((resolve, reject) => {
      // Detached: the command gets its own process group, so the deadline ends its children too.
      // (execFile cannot: it does not pass `detached` on to spawn.)
      const child = spawn(file!, args, { cwd: resolvePath(ctx.cwd, cwd ?? '.'), env: ctx.env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let overflow = false;
      const collect = (add: (text: string) => void) => (chunk: string) => {
        if (stdout.length + stderr.length + chunk.length > MAX_OUTPUT) {
          overflow = true;
          signalGroup('SIGKILL');
        } else add(chunk);
      };
      child.stdout.setEncoding('utf8').on('data', collect((t) => (stdout += t)));
      child.stderr.setEncoding('utf8').on('data', collect((t) => (stderr += t)));
      const done = () => {
        ctx.signal.removeEventListener('abort', onAbort);
        process.removeListener('exit', killGroup);
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        done();
        if (ctx.signal.aborted) return reject(ctx.signal.reason);
        if (err.code === 'ENOENT') return reject(new ConfigError(`command not found: ${file}`, { hint: 'check PATH or give an absolute path' }));
        if (err.code === 'EACCES') return reject(new ConfigError(`command is not executable: ${file}`, { hint: `chmod +x ${file}` }));
        reject(new UnreachableError(`command "${file}" could not start (${err.code ?? 'error'})`, { hint: 'run it by hand to see why' }));
      });
      child.on('close', (exit: number | null) => {
        done();
        if (ctx.signal.aborted) return reject(ctx.signal.reason);
        const firstStderrLine = redact(stderr.trim().split('\n').pop() ?? '').slice(0, 200);
        if (overflow) return reject(new ConfigError(`command "${file}" printed more than 1 MiB`, { hint: 'print only the token' }));
        if (exit !== 0) {
          return reject(
            new UnreachableError(`command "${file}" exited with ${exit ?? '?'}${firstStderrLine ? `: ${firstStderrLine}` : ''}`, {
              hint: 'run it by hand to see why',
            }),
          );
        }
        try {
          const out = parseExecOutput(stdout, ctx.now());
          if (!out.token) return reject(new AuthError(`command "${file}" printed nothing`, { hint: 'it must print the token on stdout' }));
          resolve(out.expiresAt === undefined ? { token: out.token } : { token: out.token, expiresAt: out.expiresAt });
        } catch (e) {
          reject(e);
        }
      });
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // the group is gone already
        }
      };
      // If claude-key exits first (the deadline ends the process), nothing of the command outlives it.
      const killGroup = () => signalGroup('SIGKILL');
      const onAbort = () => {
        signalGroup('SIGTERM');
        // A command that ignores SIGTERM gets SIGKILL shortly after; the timer must not hold the process.
        setTimeout(killGroup, 200).unref();
        reject(ctx.signal.reason);
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      process.once('exit', killGroup);
    });
  },
});
