// For end-to-end tests: runs the built claude-key binary (what npm installs) in a scrubbed environment.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The binary under test: the bundle `npm install -g claude-key` puts on PATH (built by
 * ./scripts/test's setup step), not the TypeScript source, so a bundling fault fails a test.
 * CLAUDE_KEY_BIN points the same suites at another build, e.g. an installed one.
 */
export const CLI_BIN = process.env.CLAUDE_KEY_BIN ?? join(REPO, 'packages/cli/dist/claude-key.cjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** The child's whole environment besides PATH; an undefined value leaves that variable unset. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed; stdin is a pipe (never a TTY) either way. */
  stdin?: string;
  cwd?: string;
  /** Called with all stderr so far each time more arrives, for tests that answer what the CLI prints. */
  onStderr?: (soFar: string) => void;
}

/**
 * Runs `claude-key ...args` and resolves when it exits (a signal counts as exit code 1). Nothing of
 * this process's environment but PATH reaches the child, so a test sees only the variables it names.
 */
export function runClaudeKey(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [name, value] of Object.entries(opts.env ?? {})) if (value !== undefined) env[name] = value;
  return new Promise((done, fail) => {
    if (!existsSync(CLI_BIN)) return fail(new Error(`${CLI_BIN} is missing: run ./scripts/setup (or pnpm run build) first`));
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: opts.cwd ?? REPO, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      opts.onStderr?.(stderr);
    });
    child.on('error', fail);
    // The CLI may exit without reading stdin; a broken pipe then is not the test's failure.
    child.stdin.on('error', () => {});
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}
