// `claude-key jwt jwks`: prints the public JWKS a gateway should trust (key set, a --key, or a Vault transit key).
import * as z from 'zod';
import { defineCommand } from '@claude-key/core';
import { defaultKeysDir, loadKeySet, publicJwks } from '../key-set.js';
import { keyFromRef } from '../key-source.js';
import { mintOptions, vaultOptions } from '../options.js';
import { vaultJwks } from '../vault-transit.js';
import { printJwks } from './print.js';

const jwksOptions = z.object({
  key: mintOptions.shape.key,
  kid: mintOptions.shape.kid,
  alg: mintOptions.shape.alg,
  keysDir: mintOptions.shape.keysDir,
  ...vaultOptions,
});

export const jwksCommand = defineCommand({
  summary: 'Print the public JWKS to trust: every key still in the set, so old and new verify during a rotation',
  options: jwksOptions,
  examples: ['claude-key jwt jwks > jwks.json', 'claude-key jwt jwks --vault-transit-key claude-key'],
  async run(options, io) {
    const ctx = io.context;
    if (options.vaultTransitKey !== undefined) {
      printJwks(io, await vaultJwks(options, ctx));
      return;
    }
    if (options.key !== undefined) {
      const { key } = await keyFromRef(options.key, options, ctx);
      printJwks(io, { keys: [key.publicJwk] });
      return;
    }
    printJwks(io, publicJwks(await loadKeySet(options.keysDir ?? defaultKeysDir(io.env))));
  },
});
