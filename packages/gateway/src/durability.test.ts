// Nothing answered is lost: a PostgreSQL outage under load, shutdown with the store down, a second SIGTERM, and SIGKILL.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { verifyAudit } from './audit/export.js';
import { Store } from './store/store.js';
import { messagesBody } from './test-support/gateway.js';
import { createTestIssuer, issuerConfig, TEST_ISSUER, type TestIssuer } from './test-support/keys.js';
import { startOwnPostgres, type OwnPostgres } from './test-support/own-postgres.js';
import { startGatewayProcess, writeConfig, type GatewayProcess } from './test-support/process.js';

interface Answer {
  status: number;
  requestId: string | null;
  /** The whole body arrived: the client saw the answer end. */
  complete: boolean;
}

/** Open-loop load: `count` requests at `perSecond`, half of them streamed; resolves with every answer. */
async function load(url: string, token: string, count: number, perSecond: number, progress = { served: 0 }): Promise<Answer[]> {
  const answers: Promise<Answer>[] = [];
  for (let i = 0; i < count; i++) {
    answers.push(
      fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': token, 'content-type': 'application/json' },
        body: JSON.stringify(messagesBody({ stream: i % 2 === 0 })),
      }).then(
        async (r) => {
          const requestId = r.headers.get('x-claude-key-request-id');
          const complete = await r.text().then(
            () => true,
            () => false,
          );
          if (r.status === 200 && complete) progress.served++;
          return { status: r.status, requestId, complete };
        },
        () => ({ status: 0, requestId: null, complete: false }),
      ),
    );
    await sleep(1000 / perSecond);
  }
  return Promise.all(answers);
}

/** Every completed 200 has exactly one usage row and one audit record; the chain verifies. */
async function assertEveryAnswerRecorded(url: string, answers: Answer[]): Promise<void> {
  const store = await Store.open({ url, path: '' });
  try {
    const usage = new Map<string, number>();
    for (const r of (await store.db.query<{ request_id: string }>('SELECT request_id FROM usage_records')).rows) {
      usage.set(r.request_id, (usage.get(r.request_id) ?? 0) + 1);
    }
    const audit = new Map<string, number>();
    for (const r of (await store.db.query<{ body: string }>('SELECT body FROM audit_log')).rows) {
      const id = (JSON.parse(r.body) as { requestId: string }).requestId;
      audit.set(id, (audit.get(id) ?? 0) + 1);
    }
    const served = answers.filter((a) => a.status === 200 && a.complete);
    assert.ok(served.length > 0, 'some requests were served');
    const missing = served.filter((a) => usage.get(a.requestId!) !== 1 || audit.get(a.requestId!) !== 1);
    assert.equal(missing.length, 0, `${missing.length} of ${served.length} served answers lack exactly one usage row and one audit record`);
    for (const [id, n] of audit) assert.equal(n, 1, `request ${id} is in the audit log ${n} times`);
    const verified = await verifyAudit(store);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  } finally {
    await store.close();
  }
}

const journalFiles = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.endsWith('.jsonl'));

describe('store outages and crashes', { timeout: 240_000 }, () => {
  let pg: OwnPostgres;
  let issuer: TestIssuer;
  let token: string;
  let dir: string;
  const gateways: GatewayProcess[] = [];

  before(async () => {
    pg = await startOwnPostgres();
    issuer = await createTestIssuer();
    token = await issuer.sign({ sub: 'loader', team: 'perf' });
  });
  after(async () => {
    for (const g of gateways) g.child.kill('SIGKILL');
    await pg?.destroy();
  });

  /** A fresh database, journal directory and config per test. */
  async function setup(name: string, store: Record<string, unknown> = {}) {
    dir = mkdtempSync(join(tmpdir(), `ckg-${name}-`));
    const { default: pgClient } = await import('pg');
    const admin = new pgClient.Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = pg.url.replace(/\/postgres$/, `/${name}`);
    const journal = join(dir, 'journal');
    const configFile = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { url, flushIntervalMs: 50, journal, closeTimeoutMs: 1000, ...store },
      auth: { issuers: [issuerConfig(issuer)], admins: [{ source: TEST_ISSUER, subject: 'loader' }] },
    });
    const start = async () => {
      const g = await startGatewayProcess(configFile);
      gateways.push(g);
      return g;
    };
    return { url, journal, start, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it('PostgreSQL stopped for 3 s under load: readyz goes 503 and back, every served answer is recorded once', async () => {
    const t = await setup('outage');
    const gateway = await t.start();
    const running = load(gateway.url, token, 600, 100);
    await sleep(1500);
    await pg.stop();
    await sleep(1000);
    const during = await fetch(`${gateway.url}/readyz`);
    assert.equal(during.status, 503);
    const report = await fetch(`${gateway.url}/admin/usage`, { headers: { 'x-api-key': token } });
    assert.equal(report.status, 503, 'a store outage is a 503 for the usage report too, never a 500');
    assert.equal(((await report.json()) as { error: { type: string } }).error.type, 'api_error');
    await sleep(2000);
    await pg.start();
    const answers = await running;
    // The writer reconnects on its own: readiness comes back without a restart.
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      ready = (await fetch(`${gateway.url}/readyz`)).status;
      if (ready !== 200) await sleep(100);
    }
    assert.equal(ready, 200);
    assert.equal(answers.filter((a) => a.status >= 500).length, 0, 'no request failed because the store was down');
    assert.equal(await gateway.stop(), 0, gateway.stderr());
    assert.deepEqual(journalFiles(t.journal), [], 'everything written: the journal is empty');
    await assertEveryAnswerRecorded(t.url, answers);
    t.cleanup();
  });

  it('SIGTERM with PostgreSQL down keeps the journal, says how many records wait, and the next start writes them', async () => {
    const t = await setup('downatexit');
    const gateway = await t.start();
    await pg.stop();
    const answers = await load(gateway.url, token, 50, 100);
    assert.equal(answers.filter((a) => a.status === 200 && a.complete).length, 50);
    gateway.child.kill('SIGTERM');
    await sleep(100);
    gateway.child.kill('SIGTERM'); // a second SIGTERM during shutdown must not exit 143
    assert.equal(await gateway.stop(), 0, gateway.stderr());
    const waiting = /"msg":"the store is unavailable: records wait in the journal for the next start","records":(\d+)/.exec(gateway.stdout());
    assert.equal(Number(waiting?.[1]), 50, gateway.stdout());
    assert.notDeepEqual(journalFiles(t.journal), []);

    await pg.start();
    const next = await t.start();
    assert.match(next.stdout(), /replaying records left in the journal","records":50/);
    assert.equal(await next.stop(), 0, `${next.child.signalCode} ${next.stderr()} ${next.stdout().slice(-1500)}`);
    assert.deepEqual(journalFiles(t.journal), []);
    await assertEveryAnswerRecorded(t.url, answers);
    t.cleanup();
  });

  for (const journalSync of ['fsync', 'write'] as const) {
    it(`SIGKILL under load (journalSync: ${journalSync}): after a restart every served answer has one usage row and one audit record`, async () => {
      // A slow flush leaves many records only in the journal when the process dies.
      const t = await setup(`sigkill_${journalSync}`, { flushIntervalMs: 2000, batchSize: 100_000, journalSync });
      const gateway = await t.start();
      const progress = { served: 0 };
      const running = load(gateway.url, token, 300, 100, progress);
      // Killed mid-load once a good number of answers are out (by count, not time: the machine may be slow).
      while (progress.served < 50) await sleep(20);
      gateway.child.kill('SIGKILL');
      const answers = await running;
      assert.ok(answers.filter((a) => a.status === 200 && a.complete).length >= 50);
      assert.notDeepEqual(journalFiles(t.journal), [], 'the unflushed records are in the journal');

      const next = await t.start();
      assert.equal(await next.stop(), 0, `${next.child.signalCode} ${next.stderr()} ${next.stdout().slice(-1500)}`);
      await assertEveryAnswerRecorded(t.url, answers);
      t.cleanup();
    });
  }
});
