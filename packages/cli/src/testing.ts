// For end-to-end tests: runs the claude-key CLI from its TypeScript sources in a scrubbed environment.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: workspace packages and `tsx` resolve from here. */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The CLI entry point; it runs the same warm path and full CLI as the bundled binary. */
export const CLI_SOURCE = join(REPO, 'packages/cli/src/main.ts');

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
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_SOURCE, ...args], { cwd: opts.cwd ?? REPO, env });
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
