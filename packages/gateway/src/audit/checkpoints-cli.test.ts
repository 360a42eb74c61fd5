// The gateway writes signed checkpoints as it stores records; `audit verify` checks the stored log against them.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../cli.js';
import { Store } from '../store/store.js';
import { messagesBody, startTestGateway } from '../test-support/gateway.js';
import { writeConfig } from '../test-support/process.js';

async function verify(configFile: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(['audit', 'verify', '--config', configFile], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  process.exitCode = undefined; // main reports through it; this test process must not exit with it
  return { code, stdout, stderr };
}

describe('audit verify against signed checkpoints', () => {
  it('passes on the log as written and names a wipe after the tables are emptied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-cp-cli-'));
    const store = { path: join(dir, 'data'), flushIntervalMs: 20 };
    const checkpoints = { dir: join(dir, 'cp'), keyFile: join(dir, 'audit.key'), everyRecords: 2 };
    const t = await startTestGateway({ store, audit: { includeContent: false, checkpoints } });
    const token = await t.issuer.sign({ sub: 'audited' });
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' }, body: JSON.stringify(messagesBody()) });
      await r.arrayBuffer();
    }
    await t.close(); // the last records get their checkpoint at shutdown
    assert.ok(readdirSync(checkpoints.dir).includes('checkpoint-0000000000000005.json'));
    const configFile = writeConfig(dir, { store: { path: store.path }, audit: { checkpoints } });

    const intact = await verify(configFile);
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /intact: 5 records; matches \d+ signed checkpoints \(newest: record 5/);

    const db = await Store.open({ path: store.path });
    await db.db.query('DELETE FROM audit_log');
    await db.db.query('DELETE FROM audit_head');
    await db.close();
    const wiped = await verify(configFile);
    assert.equal(wiped.code, 3);
    assert.match(wiped.stderr, /wiped: the log is empty but a signed checkpoint .* vouches for 5 records/);
    rmSync(dir, { recursive: true, force: true });
  });
});
