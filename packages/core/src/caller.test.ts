// Finds the Claude Code ancestor in real process trees, by pid and start time.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findClaudeCodeCaller } from './caller.js';

const linux = process.platform === 'linux';
const root = mkdtempSync(join(tmpdir(), 'ck-caller-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Starts `shell -c script`, where the script prints the pid of a grandchild; resolves to both pids. */
function tree(shell: string): Promise<{ top: number; leaf: number }> {
  return new Promise((resolve, reject) => {
    // The inner shell prints its own pid and then waits, so the tree stays up while we look.
    const child = spawn(shell, ['-c', `sh -c 'echo $$; exec sleep 30'; :`], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', reject);
    child.stdout.setEncoding('utf8').once('data', (line: string) =>
      resolve({ top: child.pid!, leaf: Number(line.trim()) }),
    );
  });
}

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

test('names the nearest ancestor called claude as "pid:start time"', { skip: !linux && 'reads /proc' }, async () => {
  const claude = join(root, 'claude');
  symlinkSync('/bin/sh', claude);
  const t = await tree(claude);
  try {
    assert.equal(findClaudeCodeCaller(t.leaf), `${t.top}:${startTime(t.top)}`);
  } finally {
    process.kill(t.leaf, 'SIGKILL');
    process.kill(t.top, 'SIGKILL');
  }
});

test('is undefined when no ancestor is Claude Code (a shell, a script)', { skip: !linux && 'reads /proc' }, async () => {
  const t = await tree('/bin/sh');
  try {
    assert.equal(findClaudeCodeCaller(t.leaf), undefined);
  } finally {
    process.kill(t.leaf, 'SIGKILL');
    process.kill(t.top, 'SIGKILL');
  }
});

test('a process that exited is no caller', { skip: !linux && 'reads /proc' }, async () => {
  const child = spawn('/bin/true');
  await new Promise((r) => child.on('close', r));
  assert.equal(findClaudeCodeCaller(child.pid!), undefined);
});
