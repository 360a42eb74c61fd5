// SIGTERM under load: in-flight streams finish, and every accepted request has its usage and audit record.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { messagesBody } from './test-support/gateway.js';
import { createTestIssuer, issuerConfig, type TestIssuer } from './test-support/keys.js';
import { runCli, startGatewayProcess, writeConfig, type GatewayProcess } from './test-support/process.js';

const IN_FLIGHT = 40;

describe('SIGTERM under load', { timeout: 180_000 }, () => {
  let dir: string;
  let issuer: TestIssuer;
  let gateway: GatewayProcess;
  let configFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ckg-shutdown-'));
    issuer = await createTestIssuer();
    // Nothing is written before shutdown: the flush on SIGTERM alone must save every record.
    configFile = writeConfig(dir, {
      listen: { host: '127.0.0.1', port: 0 },
      store: { path: join(dir, 'data'), flushIntervalMs: 600_000, batchSize: 100_000 },
      auth: { issuers: [issuerConfig(issuer)] },
    });
    gateway = await startGatewayProcess(configFile);
  });
  after(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes in-flight streams, exits 0 and loses no usage or audit record', async () => {
    const token = await issuer.sign({ sub: 'loader', team: 'perf' });
    const started: Promise<void>[] = [];
    const answers = Array.from({ length: IN_FLIGHT }, () => {
      let headersIn!: () => void;
      started.push(new Promise<void>((r) => (headersIn = r)));
      return fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': token, 'content-type': 'application/json', 'x-mock-delay-ms': '25' },
        body: JSON.stringify(messagesBody({ stream: true })),
      }).then(async (r) => {
        headersIn();
        return { status: r.status, text: await r.text() };
      });
    });
    await Promise.all(started); // every request is accepted and streaming
    const exited = gateway.stop();
    const results = await Promise.all(answers);
    assert.equal(await exited, 0, gateway.stderr());

    const complete = results.filter((r) => r.status === 200 && r.text.includes('event: message_stop'));
    assert.equal(complete.length, IN_FLIGHT, 'every accepted stream must finish');
    const usage = JSON.parse((await runCli(['usage', '--config', configFile, '--json', '--since', '1h'])).stdout) as {
      rows: { key: string; requests: number; outputTokens: number }[];
    };
    const loader = usage.rows.find((r) => r.key === 'loader')!;
    assert.equal(loader.requests, IN_FLIGHT);
    assert.ok(loader.outputTokens >= IN_FLIGHT * 2);
    const verify = await runCli(['audit', 'verify', '--config', configFile]);
    assert.match(verify.stdout, new RegExp(`intact: ${IN_FLIGHT} records`));
  });
});

describe('shutdown with a stream that would outlast the grace period', () => {
  it('cuts it after shutdownTimeoutMs and still writes its record', async () => {
    const { startTestGateway } = await import('./test-support/gateway.js');
    const { Store } = await import('./store/store.js');
    const dir = mkdtempSync(join(tmpdir(), 'ckg-cut-'));
    const t = await startTestGateway({ shutdownTimeoutMs: 100, store: { path: join(dir, 'data'), flushIntervalMs: 600_000 } });
    const r = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': await t.issuer.sign({ sub: 'slow' }), 'content-type': 'application/json', 'x-mock-delay-ms': '1000' },
      body: JSON.stringify(messagesBody({ stream: true })),
    });
    const reader = r.body!.getReader();
    await reader.read(); // the stream has started (about 12 s to go)
    await t.close();
    const rest = await reader.read().then(
      () => 'more',
      () => 'cut',
    );
    assert.equal(rest, 'cut');
    const store = await Store.open({ path: join(dir, 'data') });
    const rows = await store.db.query<{ status: number; input_tokens: string }>(`SELECT status, input_tokens FROM usage_records WHERE user_id = 'slow'`);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(rows.rows.length, 1);
    assert.equal(rows.rows[0]!.status, 499);
    assert.ok(Number(rows.rows[0]!.input_tokens) > 0, 'usage seen before the cut is kept');
  });
});
