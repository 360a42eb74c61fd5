// A refused request's record: who it claimed to be (unverified, cleaned, capped), never the token, never as its user.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { authenticationError } from '../errors.js';
import { messagesBody, startTestGateway, type TestGateway } from '../test-support/gateway.js';
import { TEST_ISSUER } from '../test-support/keys.js';
import { cleanClaim, describeRefusal } from './refusal.js';

/** An unsigned-looking JWT with any header and payload: the decoder must not care about the signature. */
const jwt = (header: Record<string, unknown>, payload: Record<string, unknown>) =>
  [header, payload].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2ln';

describe('describeRefusal', () => {
  const refused = authenticationError('Token issuer is not trusted by this gateway.');

  it('takes issuer, key id and subject from an unverified JWT, as claims, with the refusal reason', () => {
    const token = jwt({ alg: 'ES256', kid: 'k-1' }, { iss: 'https://evil.example', sub: 'alice' });
    assert.deepEqual(describeRefusal({ authorization: [`Bearer ${token}`] }, ['authorization', 'x-api-key'], refused), {
      credential: 'bearer',
      reason: 'Token issuer is not trusted by this gateway.',
      claimed: { issuer: 'https://evil.example', keyId: 'k-1', subject: 'alice' },
    });
    assert.equal(describeRefusal({ 'x-api-key': [token] }, ['authorization', 'x-api-key'], refused).credential, 'x-api-key');
  });

  it('claims nothing for an API key or garbage, says none when no credential came, and never keeps the token', () => {
    const apiKey = describeRefusal({ 'x-api-key': ['sk-secret-value'] }, ['x-api-key'], authenticationError('Invalid API key.'));
    assert.deepEqual(apiKey, { credential: 'x-api-key', reason: 'Invalid API key.' });
    assert.deepEqual(describeRefusal({ authorization: ['Bearer a.b.c'] }, ['authorization'], refused), { credential: 'bearer', reason: refused.message });
    assert.deepEqual(describeRefusal({}, ['authorization', 'x-api-key'], authenticationError('Missing credential.')), { credential: 'none', reason: 'Missing credential.' });
    const token = jwt({ alg: 'none' }, { sub: 'bob', secret: 'x' });
    assert.ok(!JSON.stringify(describeRefusal({ authorization: [`Bearer ${token}`] }, ['authorization'], refused)).includes(token));
    // An error that is not a refusal says nothing about its cause.
    assert.equal(describeRefusal({}, ['authorization'], new Error('connect ECONNREFUSED 10.0.0.5')).reason, 'internal error');
  });

  it('strips control and bidi characters and caps a claim at 128 characters; non-strings are not claims', () => {
    assert.equal(cleanClaim('al\u0000ic\u001b[31me\u202e\u200b'), 'alic[31me');
    const long = cleanClaim('x'.repeat(5000))!;
    assert.equal([...long].length, 128);
    assert.ok(long.endsWith('…'));
    const token = jwt({ alg: 'ES256', kid: 7 }, { sub: { user: 'alice' }, iss: ['a'] });
    assert.equal(describeRefusal({ authorization: [`Bearer ${token}`] }, ['authorization'], refused).claimed, undefined);
  });
});

describe('a request refused at authentication is recorded with its claims', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  it('keeps the claimed subject apart from the user, in the usage row and the audit entry, without the token', async () => {
    // Signed by a key the gateway does not trust: well-formed, verifiably not from the issuer.
    const forger = new Uint8Array(32).fill(7);
    const token = await new SignJWT({ sub: 'alice', team: 'eng' })
      .setProtectedHeader({ alg: 'HS256', kid: 'forged-kid' })
      .setIssuer(TEST_ISSUER)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(forger);
    const res = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(messagesBody()) });
    assert.equal(res.status, 401);
    const id = res.headers.get('x-claude-key-request-id')!;
    await t.gateway.recorder.flush();
    const [row] = (await t.gateway.store.query(
      `SELECT user_id, team_id, credential_kind, claimed_issuer, claimed_key_id, claimed_subject, refusal_reason, audit_seq FROM usage_records WHERE request_id = $1`,
      [id],
    )) as Record<string, unknown>[];
    assert.equal(row!.user_id, null);
    assert.equal(row!.team_id, null);
    assert.equal(row!.credential_kind, 'bearer');
    assert.equal(row!.claimed_subject, 'alice');
    assert.equal(row!.claimed_issuer, TEST_ISSUER);
    assert.equal(row!.claimed_key_id, 'forged-kid');
    assert.match(String(row!.refusal_reason), /./);
    const [entry] = (await t.gateway.store.query(`SELECT body FROM audit_log WHERE seq = $1`, [row!.audit_seq])) as { body: string }[];
    const body = JSON.parse(entry!.body) as { user: unknown; refusal: { claimed: { subject: string } } };
    assert.equal(body.user, null);
    assert.equal(body.refusal.claimed.subject, 'alice');
    assert.ok(!entry!.body.includes(token) && !entry!.body.includes(token.split('.')[2]!), 'no token, no signature');
    // Budgets and reports never count a claim: the refused request is nobody's spend.
    const byUser = await t.gateway.store.report('user', new Date(0));
    assert.ok(!byUser.some((r) => r.key === 'alice'));
  });
});
