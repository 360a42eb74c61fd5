// The contract check fails providers that would break the engine: no identity, a secret in it, a deaf ear to ctx.signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { checkProviderContract } from './testing.js';
import { defineProvider, type Provider } from './provider.js';
import envProvider from './builtin/env.js';

const valid = { options: {}, context: { env: { SECRET: 'the-secret-token-value' } } };

function provider(overrides: Partial<Provider>): Provider {
  return defineProvider({
    name: 'test',
    summary: 'test provider',
    options: z.object({}),
    identity: () => ({ inputs: { fixed: true } }),
    fetch: async (_o, ctx) => {
      ctx.signal.throwIfAborted();
      return { token: 'the-secret-token-value' };
    },
    ...overrides,
  } as Provider);
}

test('passes a provider that honours the contract', async () => {
  await checkProviderContract(provider({}), { valid });
  await checkProviderContract(envProvider, { valid: { options: { name: 'SECRET' }, context: valid.context } });
});

test('fails a provider that ignores ctx.signal and keeps working after the deadline', async () => {
  const deaf = provider({
    fetch: async () => {
      await new Promise((r) => setTimeout(r, 1500));
      return { token: 'the-secret-token-value' };
    },
  });
  await assert.rejects(checkProviderContract(deaf, { valid }), /ignored an aborted ctx\.signal/);
});

test('fails a provider that declares no identity', async () => {
  const anonymous = provider({});
  delete (anonymous as Partial<Provider>).identity;
  await assert.rejects(checkProviderContract(anonymous, { valid }), /provider\.identity must be a function/);
});

test('fails a provider whose identity holds the token or changes between equal calls', async () => {
  await assert.rejects(
    checkProviderContract(provider({ identity: (_o, id) => ({ inputs: { leaked: id.env.SECRET } }) }), { valid }),
    /must not contain the token/,
  );
  let n = 0;
  await assert.rejects(checkProviderContract(provider({ identity: () => ({ inputs: { n: n++ } }) }), { valid }), /same identity/);
});
