// The `vault` provider: prints one field of a HashiCorp Vault secret (KV v1/v2 or a leased dynamic secret).
import { defineProvider, isClaudeKeyError } from '@claude-key/core';
import { connect, resolveConnection } from './connection.js';
import { toCredential } from './credential.js';
import { readIdentityToken } from './identity.js';
import { VaultLogin } from './login.js';
import { vaultOptions } from './options.js';
import { readSecret } from './secret.js';

export { VaultClient } from './client.js';
export type { MountInfo, TransitKeyInfo, TransitSignature, TransitSignOptions, VaultAuth, VaultClientOptions, VaultEnvelope, VaultTls } from './client.js';
export { connect, resolveConnection, type ResolvedConnection } from './connection.js';
export { VaultLogin } from './login.js';
export { authOptions, connectionOptions, vaultOptions, type VaultOptions } from './options.js';

export default defineProvider({
  name: 'vault',
  summary: 'Read an API key from HashiCorp Vault (KV v1/v2 or dynamic secrets; token, AppRole, JWT or Kubernetes auth)',
  options: vaultOptions,
  positional: 'kind',
  examples: [
    'claude-key vault --path secret/litellm/claude-code --field api_key',
    'claude-key vault --path secret/litellm/claude-code --field api_key --auth approle --role-id file:/etc/claude-key/role-id --secret-id env:VAULT_SECRET_ID',
    'claude-key vault --path kv/team/anthropic --field key --auth kubernetes --role claude-code',
    'claude-key vault --path secret/litellm/claude-code --field api_key --auth jwt --role ci --jwt env:CI_JOB_JWT',
    'claude-key vault identity --role claude-gateway --auth approle',
  ],
  env: ['VAULT_ADDR', 'VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_CACERT', 'VAULT_CAPATH', 'VAULT_SKIP_VERIFY', 'VAULT_TLS_SERVER_NAME'],
  secretOptions: ['token', 'roleId', 'secretId', 'jwt'],
  // Only the credentials of the auth method in use count; without --token, the vault CLI's own
  // token ($VAULT_TOKEN, else ~/.vault-token) logs in, so a new `vault login` is a new identity.
  identity: (o, id) => ({
    inputs: id.options(
      {
        ...o,
        token: o.auth === 'token' ? (o.token ?? (id.env.VAULT_TOKEN ? 'env:VAULT_TOKEN' : 'file:~/.vault-token')) : undefined,
        roleId: o.auth === 'approle' ? o.roleId : undefined,
        secretId: o.auth === 'approle' ? o.secretId : undefined,
      },
      { refs: ['token', 'roleId', 'secretId', 'jwt'], paths: ['caCert', 'caPath'] },
    ),
  }),
  async fetch(options, ctx) {
    const conn = resolveConnection(options, ctx.env);
    const client = await connect(conn, ctx.signal);
    try {
      // For `vault identity`, --role is the identity token role; the login role is --auth-role.
      const auth = options.kind === 'identity' ? { ...options, role: options.authRole } : options;
      const login = new VaultLogin(client, conn, auth, ctx);
      const cachedLogin = await login.apply();
      const read = async () =>
        options.kind === 'identity'
          ? readIdentityToken(client, conn, options, ctx.now())
          : toCredential(await readSecret(client, conn, options, ctx), options, ctx.now());
      try {
        return await read();
      } catch (err) {
        // A cached login token may have been revoked since it was stored: log in once more.
        if (!cachedLogin || !isClaudeKeyError(err) || err.code !== 'AUTH') throw err;
        ctx.log.debug('Vault refused the cached login token; logging in again');
        await login.relogin();
        return await read();
      }
    } finally {
      await client.close();
    }
  },
});
