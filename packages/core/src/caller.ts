// Finds the Claude Code process that ran this helper, so a repeated call from it can be read as "my token was refused".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Start time in a platform unit; with pid it names one process across pid reuse. */
  start: string;
  /** Executable name (Linux comm, macOS comm basename). */
  name: string;
  /** Full command line, space-joined. */
  command: string;
}

/** The names (or command-line fragments) that identify Claude Code. */
const CLAUDE_NAMES = ['claude', 'claude.exe'];
const CLAUDE_COMMAND_FRAGMENTS = ['@anthropic-ai/claude-code', '/claude '];
const MAX_DEPTH = 10;

function linuxProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses; fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      // A process we may not read: its name still counts.
    }
    return { pid, ppid: Number(fields[1]), start: fields[19] ?? '', name, command };
  } catch {
    return undefined;
  }
}

function psProcess(pid: number): ProcessInfo | undefined {
  try {
    // child_process costs milliseconds to load; only platforms without /proc need it.
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('ps', ['-o', 'ppid=,lstart=,command=', '-p', String(pid)], { encoding: 'utf8', timeout: 1000 });
    const m = /^\s*(\d+)\s+(\w{3}\s+\w{3}\s+\d+\s+[\d:]+\s+\d{4})\s+(.*)$/.exec(out.trim());
    if (!m) return undefined;
    const command = m[3]!;
    const exe = command.split(' ')[0] ?? '';
    return { pid, ppid: Number(m[1]), start: m[2]!, name: exe.slice(exe.lastIndexOf('/') + 1), command };
  } catch {
    return undefined;
  }
}

export type ProcessReader = (pid: number) => ProcessInfo | undefined;

export function defaultProcessReader(): ProcessReader | undefined {
  if (process.platform === 'linux') return linuxProcess;
  if (process.platform === 'darwin' || process.platform.endsWith('bsd')) return psProcess;
  return undefined;
}

export function looksLikeClaudeCode(info: ProcessInfo): boolean {
  if (CLAUDE_NAMES.includes(info.name)) return true;
  const cmd = `${info.command} `;
  return CLAUDE_COMMAND_FRAGMENTS.some((f) => cmd.includes(f));
}

/**
 * The identity ("pid:start") of the nearest Claude Code ancestor, or undefined when this helper
 * was not started by Claude Code (a shell, a script, the demo). Refusal detection applies only
 * to Claude Code callers: anyone else running the helper twice just gets the cached token.
 */
export function findClaudeCodeCaller(
  startPid: number = process.ppid,
  read: ProcessReader | undefined = defaultProcessReader(),
): string | undefined {
  if (!read) return undefined;
  let pid = startPid;
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    const info = read(pid);
    if (!info) return undefined;
    if (looksLikeClaudeCode(info)) return `${info.pid}:${info.start}`;
    pid = info.ppid;
  }
  return undefined;
}
