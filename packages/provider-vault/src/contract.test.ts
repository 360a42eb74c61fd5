// The provider contract checks every provider must pass, run against the Vault test server.
import { after, before, it } from 'node:test';
import { checkProviderContract } from '@claude-key/core/testing';
import { VaultTestServer } from '@claude-key/vault-test-server';
import provider from './index.js';

let server: VaultTestServer;

before(async () => {
  server = await VaultTestServer.start();
  server.root.enableKv('secret', 2).putSecret('secret/litellm/claude-code', { api_key: 'sk-contract-secret' });
});
after(() => server.close());

it('honours the provider contract', async () => {
  const env = { VAULT_ADDR: server.address, VAULT_TOKEN: server.rootToken, HOME: '/nonexistent-home' };
  await checkProviderContract(provider, {
    valid: { options: { path: 'secret/litellm/claude-code', field: 'api_key' }, context: { env } },
    invalid: { path: 'secret/x', auth: 'password' },
    failing: { options: { path: 'secret/litellm/claude-code', field: 'missing' }, context: { env } },
  });
});
