// TLS settings users already have: VAULT_CACERT, VAULT_CAPATH, VAULT_SKIP_VERIFY, against a self-signed server.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ExitCode } from '@claude-key/core';
import { createSelfSignedCert } from '@claude-key/vault-test-server';
import { startVault, type VaultFixture } from './test-support/vault-fixture.js';

let f: VaultFixture;
let dir: string;
const options = { path: 'secret/app', field: 'api_key' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vault-tls-test-'));
  const cert = await createSelfSignedCert();
  await writeFile(join(dir, 'ca.pem'), cert.cert);
  await mkdir(join(dir, 'cadir'));
  await writeFile(join(dir, 'cadir', 'README'), 'not a certificate');
  await writeFile(join(dir, 'cadir', 'vault-ca.crt'), cert.cert);
  f = await startVault({ server: { tls: cert } });
  f.server.root.enableKv('secret', 2).putSecret('secret/app', { api_key: 'sk-over-tls' });
  f.env.VAULT_TOKEN = f.server.rootToken;
});
after(async () => {
  await f.server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const name of ['VAULT_CACERT', 'VAULT_CAPATH', 'VAULT_SKIP_VERIFY']) f.env[name] = undefined;
});

describe('vault provider: TLS', () => {
  it('refuses a certificate it cannot verify and says how to trust it', async () => {
    assert.match(f.server.address, /^https:/);
    const err = await f.fail(options, f.newContext());
    assert.equal(err.exitCode, ExitCode.unreachable);
    assert.match(err.line, /TLS handshake with Vault at https:\/\/127\.0\.0\.1:\d+ failed \(\w+\); set VAULT_CACERT/);
  });

  it('trusts the CA file in VAULT_CACERT', async () => {
    f.env.VAULT_CACERT = join(dir, 'ca.pem');
    assert.equal((await f.run(options, f.newContext())).token, 'sk-over-tls');
  });

  it('trusts the CA directory in VAULT_CAPATH, skipping files that are not certificates', async () => {
    f.env.VAULT_CAPATH = join(dir, 'cadir');
    assert.equal((await f.run(options, f.newContext())).token, 'sk-over-tls');
  });

  it('trusts the CA file given as --ca-cert', async () => {
    assert.equal((await f.run({ ...options, caCert: join(dir, 'ca.pem') }, f.newContext())).token, 'sk-over-tls');
  });

  it('skips verification with VAULT_SKIP_VERIFY=true', async () => {
    f.env.VAULT_SKIP_VERIFY = 'true';
    assert.equal((await f.run(options, f.newContext())).token, 'sk-over-tls');
  });

  it('names a CA file it cannot read', async () => {
    f.env.VAULT_CACERT = join(dir, 'missing.pem');
    const err = await f.fail(options, f.newContext());
    assert.equal(err.exitCode, ExitCode.usage);
    assert.match(err.message, /cannot read CA certificate .*missing\.pem \(ENOENT\)/);
  });
});
