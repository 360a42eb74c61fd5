// Remote keys: a JWKS URL refetched on an unknown kid at most once per cooldown, and OIDC discovery.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { JwtVerifier } from './jwt.js';

const ISS_PATH = '/realm';

describe('JWT verification with remote keys', () => {
  let server: Server;
  let base: string;
  let jwksFetches = 0;
  const keys: { kid: string; privateKey: CryptoKey; jwk: Record<string, unknown> }[] = [];
  const addKey = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    keys.push({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } });
  };

  before(async () => {
    await addKey('k1');
    server = createServer((req, res) => {
      if (req.url === `${ISS_PATH}/.well-known/openid-configuration`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ issuer: `${base}${ISS_PATH}`, jwks_uri: `${base}/jwks` }));
      }
      if (req.url === '/jwks') {
        jwksFetches++;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (kid: string, iss = `${base}${ISS_PATH}`) => {
    const key = keys.find((k) => k.kid === kid)!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'alice', team: 'eng' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(iss).setAudience('gw').setIssuedAt(now).setExpirationTime(now + 60).sign(key.privateKey);
  };

  const discoveryVerifier = (cooldownMs: number) =>
    new JwtVerifier(
      [{ issuer: `${base}${ISS_PATH}`, audience: 'gw', discovery: true, algorithms: ['ES256'], claims: { user: 'sub', team: 'team' }, jwksCooldownMs: cooldownMs }],
      { skewSeconds: 0, now: Date.now, knownTeams: new Set() },
    );

  it('finds the keys through OIDC discovery and refetches them when a rotated-in kid appears', async () => {
    const verifier = discoveryVerifier(0);
    const fetchesBefore = jwksFetches;
    assert.equal((await verifier.verify(await sign('k1'))).user, 'alice');
    assert.equal(jwksFetches, fetchesBefore + 1);
    await addKey(`k${keys.length + 1}`); // the issuer rotates in a new key
    assert.equal((await verifier.verify(await sign(keys.at(-1)!.kid))).user, 'alice');
    assert.equal(jwksFetches, fetchesBefore + 2, 'an unknown kid triggers one refetch');
  });

  it('refuses unknown kids with 401 without refetching inside the cooldown', async () => {
    const verifier = discoveryVerifier(60_000);
    await verifier.verify(await sign('k1'));
    const fetchesBefore = jwksFetches;
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256', kid: 'forged' }).setIssuer(`${base}${ISS_PATH}`).setAudience('gw').setExpirationTime(now + 60).sign(privateKey);
    for (let i = 0; i < 3; i++) await assert.rejects(verifier.verify(forged), (err: { status: number }) => err.status === 401);
    assert.equal(jwksFetches, fetchesBefore, 'forged kids must not hammer the JWKS endpoint');
  });

  it('remembers a verified token until it expires, by the injected clock', async () => {
    let clock = Date.now();
    const verifier = new JwtVerifier(
      [{ issuer: `${base}${ISS_PATH}`, audience: 'gw', jwksUrl: `${base}/jwks`, discovery: false, algorithms: ['ES256'], claims: { user: 'sub', team: 'team' }, jwksCooldownMs: 30_000 }],
      { skewSeconds: 0, now: () => clock, knownTeams: new Set() },
    );
    const token = await sign('k1');
    await verifier.verify(token);
    await verifier.verify(token);
    clock += 61_000; // past exp
    await assert.rejects(verifier.verify(token), (err: { status: number; message: string }) => err.status === 401 && /expired/.test(err.message));
  });
});
