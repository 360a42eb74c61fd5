// The `jwt` provider: mints a short-lived per-user JWT signed by a local key, a key reference or Vault transit.
import { defineProvider } from '@claude-key/core';
import { enrollCommand } from './commands/enroll.js';
import { jwksCommand } from './commands/jwks.js';
import { keygenCommand } from './commands/keygen.js';
import { activateCommand, keysCommand, retireCommand } from './commands/manage.js';
import { defaultKeysDir } from './key-set.js';
import { resolveSigningKey } from './key-source.js';
import { osKeychain, type KeychainWriter } from './keychain.js';
import { mintToken } from './mint.js';
import { mintOptions } from './options.js';
import { localSigner } from './signer.js';
import { withVaultSigner } from './vault-transit.js';

/** The extra commands; tests pass an in-memory keychain, the CLI gets the OS one. */
export function jwtCommands(keychain: KeychainWriter = osKeychain) {
  return {
    keygen: keygenCommand(keychain),
    jwks: jwksCommand,
    enroll: enrollCommand,
    keys: keysCommand,
    activate: activateCommand,
    retire: retireCommand(keychain),
  };
}

export default defineProvider({
  name: 'jwt',
  summary: 'Mint a short-lived per-user JWT (key file, env, OS keychain or Vault transit)',
  options: mintOptions,
  examples: [
    'claude-key jwt --aud claude-gateway --team platform',
    'claude-key jwt --aud claude-gateway --key file:/etc/claude-key/signing.pem --kid 2026-01',
    'claude-key jwt --aud claude-gateway --vault-transit-key claude-key',
  ],
  env: ['VAULT_ADDR', 'VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_CACERT', 'VAULT_CAPATH', 'VAULT_SKIP_VERIFY', 'VAULT_TLS_SERVER_NAME', 'CLAUDE_KEY_CONFIG_DIR', 'XDG_CONFIG_HOME'],
  secretOptions: ['key', 'vaultToken', 'vaultRoleId', 'vaultSecretId', 'vaultJwt'],
  identity: (o, id) => ({
    inputs: id.options(o, { refs: ['key', 'vaultToken', 'vaultRoleId', 'vaultSecretId', 'vaultJwt'], paths: ['keysDir', 'vaultCaCert', 'vaultCaPath'] }),
  }),
  commands: jwtCommands(),
  async fetch(options, ctx) {
    ctx.signal.throwIfAborted();
    if (options.vaultTransitKey !== undefined) return withVaultSigner(options, ctx, (signer) => mintToken(options, signer, ctx));
    const keysDir = options.keysDir ?? defaultKeysDir(ctx.env);
    const { key, source } = await resolveSigningKey({ ...options, keysDir }, ctx);
    return mintToken(options, await localSigner(key, source), ctx);
  },
});
