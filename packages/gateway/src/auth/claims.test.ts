// Claim paths and groups arrays map to user and team.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identityFromClaims } from './claims.js';

describe('claims', () => {
  it('walks dotted paths, prefers literal URL-like claim names, and picks a known team from groups', () => {
    const payload = { 'https://corp.example/email': 'a@corp', org: { team: 'ml' }, groups: ['everyone', 'platform'] };
    assert.deepEqual(identityFromClaims(payload, { user: 'https://corp.example/email', team: 'org.team' }, new Set()), { user: 'a@corp', team: 'ml' });
    assert.deepEqual(identityFromClaims(payload, { user: 'https://corp.example/email', team: 'groups' }, new Set(['platform'])), { user: 'a@corp', team: 'platform' });
    assert.deepEqual(identityFromClaims(payload, { user: 'https://corp.example/email', team: 'missing', groups: 'groups' }, new Set()), { user: 'a@corp', team: 'everyone' });
    assert.equal(identityFromClaims({ sub: 'x' }, { user: 'sub', team: 'team' }, new Set()).team, 'unassigned');
  });

  it('refuses a token without the user claim with 401', () => {
    assert.throws(() => identityFromClaims({ team: 'x' }, { user: 'email', team: 'team' }, new Set()), (err: { status: number }) => err.status === 401);
  });
});
