import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { bufferedWriter, FLUSH_BYTES, FLUSH_MS } from './log.js';

describe('buffered log lines', () => {
  const collect = () => {
    const writes: string[] = [];
    return { writes, write: bufferedWriter((text) => writes.push(text)) };
  };

  it('holds info lines and writes them together within FLUSH_MS', async () => {
    const { writes, write } = collect();
    write('a\n', false);
    write('b\n', false);
    assert.deepEqual(writes, [], 'nothing written per line');
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS + 50));
    assert.deepEqual(writes, ['a\nb\n'], 'one write for both, in order');
  });

  it('writes at once, after what it holds, when a line is urgent', () => {
    const { writes, write } = collect();
    write('info\n', false);
    write('warn\n', true);
    assert.deepEqual(writes, ['info\nwarn\n']);
  });

  it('writes once FLUSH_BYTES are held, without waiting for the timer', () => {
    const { writes, write } = collect();
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < FLUSH_BYTES / line.length; i++) write(line, false);
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.length, FLUSH_BYTES);
  });

  it('a logger writes a warning, and what it held, before the call returns', () => {
    // SIGKILL right after: no exit handler runs, so only what was written at once is there.
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      import { createLogger } from ${JSON.stringify(new URL('./log.ts', import.meta.url).href)};
      const log = createLogger('info');
      log.info('held');
      log.warn('urgent');
      process.kill(process.pid, 'SIGKILL');
    `], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL');
    assert.deepEqual(child.stdout.trim().split('\n').map((l) => JSON.parse(l).msg), ['held', 'urgent']);
  });

  it('whatever is held is written when the process exits', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      import { createLogger } from ${JSON.stringify(new URL('./log.ts', import.meta.url).href)};
      const log = createLogger('info');
      log.info('one');
      log.info('two');
      process.exit(0);
    `], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(child.stdout.trim().split('\n').map((l) => JSON.parse(l).msg), ['one', 'two']);
  });
});
