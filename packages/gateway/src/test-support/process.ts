// Runs the built claude-key-gateway binary as a real process (for end-to-end, replica and shutdown tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
/**
 * The binary under test: dist/bin.js as npm installs it (built by ./scripts/test's setup step), not
 * the TypeScript source. CLAUDE_KEY_GATEWAY_BIN points the same suites at another build.
 */
export const GATEWAY_BIN = process.env.CLAUDE_KEY_GATEWAY_BIN ?? join(REPO_ROOT, 'packages/gateway/dist/bin.js');

function binArgs(args: string[]): string[] {
  if (!existsSync(GATEWAY_BIN)) throw new Error(`${GATEWAY_BIN} is missing: run ./scripts/setup (or pnpm run build) first`);
  return [GATEWAY_BIN, ...args];
}

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process printed on stdout (JSON log lines). */
  stdout(): string;
  /** The `request` log lines printed so far, parsed. */
  requestLogs(): RequestLogLine[];
  /**
   * The `request` log lines once `done` holds for them (up to 10 s): the gateway writes info lines
   * in batches, up to 100 ms after the request. Lines arrive in order, so waiting for the last one
   * expected also brings every line before it.
   */
  waitForRequestLogs(done: (lines: RequestLogLine[]) => boolean): Promise<RequestLogLine[]>;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A `request` log line: the fields the end-to-end tests look at. */
export interface RequestLogLine {
  user: string | null;
  team: string | null;
  status: number;
  format: string;
  deployment: string | null;
  error?: string;
}

const parseRequestLogs = (stdout: string): RequestLogLine[] =>
  stdout
    .split('\n')
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l) as RequestLogLine);

export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** Runs a CLI command (usage, audit ...) to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, binArgs(args), { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

export async function startGatewayProcess(configFile: string, env: NodeJS.ProcessEnv = {}, port = 0): Promise<GatewayProcess> {
  const child = spawn(process.execPath, binArgs(['serve', '--config', configFile, '--port', String(port)]), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    // The "listening" line is logged at info: a config used here must not set log.level above it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start: ${err}`));
    }, 90_000); // the embedded store alone takes tens of seconds to start on a machine shared by many test runs
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
      if (m) clearTimeout(timer), resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    requestLogs: () => parseRequestLogs(out),
    async waitForRequestLogs(done) {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        const lines = parseRequestLogs(out);
        if (done(lines)) return lines;
      }
      return parseRequestLogs(out); // the caller's assertion says what is missing
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
}
