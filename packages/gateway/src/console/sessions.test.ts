// Console sessions in the store: what a row holds (no id, no CSRF token), idle and absolute expiry, sign-out, clean-up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../auth/principal.js';
import type { Rows } from '../store/console-sql.js';
import { Store } from '../store/store.js';
import { hashSessionId, Sessions } from './sessions.js';

const MINUTE = 60_000;
const admin: Principal = { source: 'https://idp.example', subject: 'root', user: 'root', team: 'ops', credentialId: 'jti:t1', kind: 'jwt' };

// PostgreSQL: sessions-replicas.test.ts, with two gateway processes.
for (const engine of ['sqlite', 'pglite'] as const) describe(`console sessions in the store (${engine})`, () => {
  let store: Store;
  let rows: Rows;
  let clock = Date.UTC(2026, 11, 1, 12);
  const now = () => clock;
  // Two replicas: two Sessions over one store, as two gateway processes over one database.
  let a: Sessions;
  let b: Sessions;

  before(async () => {
    store = await Store.open({ path: 'memory://', engine });
    rows = (async (sql: string, params?: unknown[]) => (await store.db.query(sql, params)).rows) as Rows;
    a = new Sessions(rows, now, 480 * MINUTE, 30 * MINUTE);
    b = new Sessions(rows, now, 480 * MINUTE, 30 * MINUTE);
  });
  after(() => store.close());

  const stored = () => rows<Record<string, unknown>>(`SELECT * FROM console_sessions`);

  it('stores the id\'s SHA-256 and the identity, never the id or the CSRF token, and any replica finds it', async () => {
    const s = await a.open(admin);
    const [row, ...more] = await stored();
    assert.equal(more.length, 0);
    assert.equal(row!.id_hash, hashSessionId(s.id));
    const text = JSON.stringify(row);
    assert.ok(!text.includes(s.id) && !text.includes(s.csrf));
    const seen = await b.get(s.id);
    assert.deepEqual(seen?.principal, admin);
    assert.equal(seen?.csrf, s.csrf, 'the other replica derives the same CSRF token');
    assert.notEqual(s.csrf, (await a.open(admin)).csrf, 'each session its own token');
  });

  it('ends a session after idleMinutes without use, and keeps one in use alive until sessionMinutes', async () => {
    const idle = await a.open(admin);
    const used = await a.open(admin);
    for (let t = 0; t < 16; t++) {
      clock += 29 * MINUTE;
      assert.ok(await b.get(used.id), `in use after ${(t + 1) * 29} minutes`);
    }
    assert.equal(await a.get(idle.id), undefined, 'idle for 8 hours');
    clock += 29 * MINUTE; // 493 minutes after sign-in, used 29 minutes ago
    assert.equal(await a.get(used.id), undefined, 'past sessionMinutes however recently used');
    assert.ok(!(await stored()).some((r) => r.id_hash === hashSessionId(used.id)), 'the expired row is deleted when found');
  });

  it('signs out on one replica for all, refuses ids that are not its own shape, and sweeps expired rows at sign-in', async () => {
    const s = await a.open(admin);
    assert.equal(await a.get(s.id.slice(0, -1)), undefined);
    assert.equal(await a.get(`${s.id}A`), undefined);
    assert.equal(await a.get(undefined), undefined);
    assert.ok(await a.get(s.id));
    await b.close(s.id);
    assert.equal(await a.get(s.id), undefined);
    const stale = await a.open(admin);
    clock += 31 * MINUTE;
    const fresh = await b.open(admin);
    const left = (await stored()).map((r) => r.id_hash);
    assert.ok(!left.includes(hashSessionId(stale.id)));
    assert.deepEqual(left, [hashSessionId(fresh.id)]);
  });
});
