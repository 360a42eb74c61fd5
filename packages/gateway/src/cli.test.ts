// The CLI's failure modes: one line on stderr and a distinct exit code, never a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { enrollKey } from './auth/trust.js';
import { main } from './cli.js';
import { parseSince } from './gateway.js';
import { Store } from './store/store.js';

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { code, stdout, stderr };
}

describe('claude-key-gateway CLI', () => {
  it('names the bad config field in one line and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-cli-'));
    writeFileSync(join(dir, 'gw.yaml'), 'listen:\n  port: "http"\n');
    const r = await run(['usage', '--config', join(dir, 'gw.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^claude-key-gateway: .*listen\.port: .*\n$/);
    assert.equal(r.stderr.split('\n').length, 2, 'exactly one line');
  });

  it('refuses a bad --since and an unknown --by with exit 2', async () => {
    assert.equal((await run(['usage', '--since', 'yesterday-ish'])).code, 2);
    assert.equal((await run(['usage', '--by', 'planet'])).code, 2);
  });

  it('reads --since durations with claude-key\'s one duration parser (90m, 1.5h, 7d), and dates as dates', () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    assert.equal(parseSince('90m', now).getTime(), now - 90 * 60_000);
    assert.equal(parseSince('1.5h', now).getTime(), now - 90 * 60_000);
    assert.equal(parseSince('7d', now).getTime(), now - 7 * 86_400_000);
    assert.equal(parseSince('2026-11-01', now).toISOString(), '2026-11-01T00:00:00.000Z');
  });

  it('reports an unreachable database in one line with exit 4', async () => {
    let stderr = '';
    const code = await main(['usage'], { stdout: () => {}, stderr: (t) => (stderr += t), env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    assert.equal(code, 4);
    assert.match(stderr, /^claude-key-gateway: cannot open the store: .*ECONNREFUSED.*\n$/);
  });

  it('shows examples in --help', async () => {
    const r = await run(['serve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n\s+claude-key-gateway serve --config gateway.yaml/);
  });

  it('keys list, approve and revoke an enrollment in the store, each an audit record; revoke refuses an unknown kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-cli-keys-'));
    const config = join(dir, 'gw.yaml');
    writeFileSync(config, `store: { path: ${join(dir, 'data')} }\nauth: { issuers: [ { issuer: claude-key, audience: gw, trust: enrolled } ] }\n`);
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const store = await Store.open({ path: join(dir, 'data') });
    const db = { kind: store.kind, rows: async <T>(sql: string, p?: unknown[]) => (await store.db.query<T>(sql, p)).rows, applyTrustChange: store.applyTrustChange.bind(store) };
    const pending = await enrollKey(db, { by: 'enrollment', now: Date.now() }, { jwk: await exportJWK(publicKey), user: 'ada', teams: ['eng', 'ml'], lifetimeDays: 90, maxPending: 10 });
    await store.close();

    const listed = JSON.parse((await run(['keys', 'list', '--status', 'pending', '--json', '--config', config])).stdout) as { keys: { kid: string }[] };
    assert.deepEqual(listed.keys.map((k) => k.kid), [pending.kid]);
    const approved = await run(['keys', 'approve', pending.kid, '--teams', 'eng', '--config', config]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`approved ${pending.kid} for ada \\(teams eng\\)`));
    assert.equal((await run(['keys', 'approve', pending.kid, '--config', config])).code, 2, 'only a pending key can be approved');
    assert.equal((await run(['keys', 'revoke', 'no-such-kid', '--config', config])).code, 6);
    assert.equal((await run(['keys', 'revoke', pending.kid, '--reason', 'lost laptop', '--config', config])).code, 0);
    assert.match((await run(['keys', 'list', '--config', config])).stdout, new RegExp(`${pending.kid}  revoked`));
    assert.equal((await run(['revoke', 'token', 'x', '--config', config])).code, 2);
    assert.equal((await run(['revoke', 'subject', 'ada', '--config', config])).code, 2, 'an identity needs its source');

    const audit = (await run(['audit', 'export', '--config', config])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { record: { event: string } }).record.event);
    assert.deepEqual(audit, ['key.enroll', 'key.approve', 'key.revoke']);
    assert.equal((await run(['audit', 'verify', '--config', config])).code, 0);
  });
});
