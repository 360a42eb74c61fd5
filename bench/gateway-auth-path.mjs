// Per-request cost of authentication as the gateway runs it: headers (with repeats kept) to principal,
// for a token already verified once (the verified-token cache), with revocations and enrolled keys loaded.
//
//   node --conditions=source --import tsx bench/gateway-auth-path.mjs [--n 200000]
//
// On a loaded shared machine the end-to-end latency bench (bench/gateway.mjs) moves by milliseconds
// between runs; this isolates what the trust checks add to each request, in microseconds.
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireGw = createRequire(join(ROOT, 'packages/gateway/package.json'));
const { generateKeyPair, exportJWK, SignJWT } = await import(requireGw.resolve('jose'));
const { Authenticator } = await import(join(ROOT, 'packages/gateway/src/auth/authenticate.ts'));
const { TrustRegistry } = await import(join(ROOT, 'packages/gateway/src/auth/trust.ts'));
const { parseConfig } = await import(join(ROOT, 'packages/gateway/src/config.ts'));

const i = process.argv.indexOf('--n');
const N = i === -1 ? 200_000 : Number(process.argv[i + 1]);

const dir = mkdtempSync(join(tmpdir(), 'ckg-auth-bench-'));
const { privateKey, publicKey } = await generateKeyPair('ES256');
writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] }));
const config = parseConfig({ auth: { issuers: [{ issuer: 'https://bench', audience: 'gw', jwksFile: join(dir, 'jwks.json') }] } });
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ sub: 'u', team: 't', jti: 'j' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer('https://bench').setAudience('gw').setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);

// A registry holding 10 000 revocations, as a long-running gateway might.
const rows = Array.from({ length: 10_000 }, (_, n) => ({ kind: 'jti', value: `revoked-${n}` }));
const trust = new TrustRegistry({ kind: 'pglite', rows: async (sql) => (sql.includes('revocations') ? rows : []), applyTrustChange: async () => {} }, Date.now);
await trust.reload();

/** A request as Node's parser leaves it: what Claude Code sends, both credential headers. */
function request() {
  const req = new IncomingMessage(new Socket());
  req.rawHeaders = ['Host', 'gw', 'Authorization', `Bearer ${token}`, 'X-Api-Key', token, 'anthropic-version', '2023-06-01', 'content-type', 'application/json'];
  // Node's parser sets the count; headers and headersDistinct are then built lazily from rawHeaders.
  req[Object.getOwnPropertySymbols(req).find((s) => s.description === 'kHeadersCount')] = req.rawHeaders.length;
  return req;
}

async function measure(label, authenticator, headersOf) {
  const reqs = Array.from({ length: 1000 }, request);
  await authenticator.authenticate(headersOf(reqs[0])); // verifies once; later calls hit the cache
  for (let n = 0; n < 20_000; n++) await authenticator.authenticate(headersOf(request()));
  const t0 = performance.now();
  for (let n = 0; n < N; n++) await authenticator.authenticate(headersOf(request()));
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`${label}: ${us.toFixed(2)} µs per request (n=${N}, including building the request object)`);
  return us;
}

const before = await measure('no trust registry, req.headers (as before)', new Authenticator(config, Date.now), (r) => r.headers);
const after = await measure('trust registry + req.headersDistinct (now)', new Authenticator(config, Date.now, trust), (r) => r.headersDistinct);
console.log(`added: ${(after - before).toFixed(2)} µs per request`);
