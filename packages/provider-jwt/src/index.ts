// The `jwt` provider: mints a short-lived per-user JWT signed by a local key, a key reference or Vault transit.
import { defineProvider } from '@claude-key/core';
import { jwksCommand } from './commands/jwks.js';
import { keygenCommand } from './commands/keygen.js';
import { activateCommand, keysCommand, retireCommand } from './commands/manage.js';
import { defaultKeysDir } from './key-set.js';
import { resolveSigningKey } from './key-source.js';
import { osKeychain, type KeychainWriter } from './keychain.js';
import { mintToken } from './mint.js';
import { mintOptions } from './options.js';
import { localSigner, type Signer } from './signer.js';
import { vaultSigner } from './vault-transit.js';

/** The extra commands; tests pass an in-memory keychain, the CLI gets the OS one. */
export function jwtCommands(keychain: KeychainWriter = osKeychain) {
  return {
    keygen: keygenCommand(keychain),
    jwks: jwksCommand,
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
  env: ['VAULT_ADDR', 'VAULT_NAMESPACE', 'CLAUDE_KEY_CONFIG_DIR', 'XDG_CONFIG_HOME'],
  secretOptions: ['key', 'vaultToken'],
  commands: jwtCommands(),
  async fetch(options, ctx) {
    ctx.signal.throwIfAborted();
    let signer: Signer;
    if (options.vaultTransitKey !== undefined) {
      signer = await vaultSigner(options, ctx);
    } else {
      const keysDir = options.keysDir ?? defaultKeysDir(ctx.env);
      const { key, source } = await resolveSigningKey({ ...options, keysDir }, ctx);
      signer = await localSigner(key, source);
    }
    return mintToken(options, signer, ctx);
  },
});
