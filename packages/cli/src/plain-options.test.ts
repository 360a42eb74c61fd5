// The plain-call bundles check a token call's options without zod, from tables made at build time
// (describePlainOptions, scripts/bundle.mjs). What the plain checker passes, zod must pass with the
// same output; what zod refuses, the checker must leave to it (the full CLI then words the error).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Provider } from '@claude-key/core';
import { describeFields, describePlainOptions } from '../../core/src/cli/flags.js';
import { checkPlainOptions, type PlainField } from '../../core/src/cli/plain-flags.js';
import { plainBundles, providers } from './providers.js';

const STRINGS = [
  '', 'a', 'ab', 'claude-key', 'a b', 'x@y', '30s', '5m', '300', 'ünïcödé', 'a\u0000b', '😀', '😀😀', 'a😀', '\ud800', '\ud800\udc00\ud800', '😀'.repeat(32), '😀'.repeat(33), 'x'.repeat(2047) + '😀',
  ...[2, 31, 32, 63, 64, 65, 255, 256, 257, 1224, 1225, 2048, 2049].map((n) => 'x'.repeat(n)),
  'https://vault.example:8200', 'http://127.0.0.1:8200', 'https://a.example/p?q=1#f', 'HTTPS://A.EXAMPLE', 'http://[::1]:8080/',
  'ftp://a.example', ' https://a.example', 'https://a.example ', 'https://a.exa\tmple', 'https://a.example\n', 'https:/a.example',
  'http:a.example', 'https://', 'not a url', 'mailto:x@y', 'file:///tmp/x',
  'env:VAULT_TOKEN', 'file:/tmp/x', 'profile:corp', 'keychain:svc/acct', 'env:', 'profile:',
  'arn:aws:iam::123456789012:role/x', 'arn:aws-cn:iam::123456789012:role/a/b', 'arn:aws:iam::12345:role/x', 'arn:aws:iam::123456789012:user/x',
  'RS256', 'ES256', 'EdDSA', 'token', 'approle', 'jwt', 'kubernetes', 'secret', 'access-token', 'id-token', 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  'projects/p/secrets/s/versions/latest', 'secret/data/x', 'team_a', 'bad name!', '-x',
];
const NUMBERS = [0, 1, -1, 1.5, 2, 30, 299, 300, 899, 900, 3600, 43_200, 43_201, 86_400, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const OTHERS = [true, false, null, [], ['https://a.example'], ['ftp://a.example'], ['x'], ['https://a.example', 'http://127.0.0.1:1'], { a: 1 }];

/** Every candidate, with the field's own choices first. */
const candidates = (field: PlainField): unknown[] => [...(field.choices ?? []), ...STRINGS, ...NUMBERS, ...OTHERS];

/** The schema of each option (the providers' options are zod objects). */
const shapeOf = (provider: Provider) => (provider.options as unknown as { shape: Record<string, Provider['options']> }).shape;

async function plainProviders(): Promise<Provider[]> {
  return Promise.all(Object.keys(plainBundles).map(async (name) => (await providers.find((p) => p.name === name)!.load()) as Provider));
}

/** Compares the checker with zod on these values; returns whether the checker passed them. */
function agree(provider: Provider, table: ReturnType<typeof describePlainOptions>, values: Record<string, unknown>): boolean {
  const plain = checkPlainOptions(table, values);
  const parsed = provider.options.safeParse(values);
  const what = `${provider.name} ${JSON.stringify(values)}`;
  if (!parsed.success) assert.equal(plain, undefined, `zod refuses ${what}, the plain checker passed it`);
  if (plain) {
    assert.ok(parsed.success);
    assert.deepEqual(plain, parsed.data, `the same output for ${what}`);
    assert.deepEqual(Object.keys(plain), Object.keys(parsed.data as object), `the same key order for ${what}`);
  }
  return plain !== undefined;
}

describe('the plain option checker agrees with zod on every plain-call provider', async () => {
  const loaded = await plainProviders();

  for (const provider of loaded) {
    describe(provider.name, () => {
      const table = describePlainOptions(provider.options);
      const shape = shapeOf(provider);
      // The required fields, each with a value zod takes: the base every value of another field joins.
      const base: Record<string, unknown> = {};
      for (const field of table.fields) {
        if (field.absent !== 'required') continue;
        const ok = candidates(field).find((v) => shape[field.key]!.safeParse(v).success);
        assert.ok(ok !== undefined, `a value for ${field.key}`);
        base[field.key] = ok;
      }

      it('has the flags describeFields reads', () => {
        assert.deepEqual(
          table.fields.map(({ key, flag, type, choices }) => ({ key, flag, type, ...(choices ? { choices } : {}) })),
          describeFields(provider.options).map(({ key, flag, type, choices }) => ({ key, flag, type, ...(choices ? { choices } : {}) })),
        );
      });

      it('passes nothing zod refuses, and passes it as zod outputs it', () => {
        agree(provider, table, {});
        // Options checked as a whole too (vault, gcp: a refinement across fields) are zod's alone.
        assert.equal(agree(provider, table, base), table.checkable, 'the required fields alone');
        for (const field of table.fields) {
          for (const value of candidates(field)) {
            const passed = agree(provider, table, { ...base, [field.key]: value });
            // As from a profile: its `provider` and `description` keys come along.
            agree(provider, table, { provider: provider.name, description: 'x', ...base, [field.key]: value });
            // Where the table has a check other than a URL's (which passes only URLs zod takes as
            // they are), the checker decides exactly as zod does, but for strings with surrogates
            // (zod counts characters, not UTF-16 units): it hands nothing more to zod.
            const surrogates = typeof value === 'string' && /[\ud800-\udfff]/.test(value);
            if (table.checkable && field.check && !(field.check.type === 'string' && field.check.url) && !surrogates) {
              assert.equal(passed, shape[field.key]!.safeParse(value).success, `${provider.name} ${field.key}=${JSON.stringify(value)}`);
            }
          }
        }
      });
    });
  }

  it('judges the options of the providers whose bundle has no zod (aws) as a whole', () => {
    for (const provider of loaded.filter((p) => plainBundles[p.name] === 'aws')) assert.equal(describePlainOptions(provider.options).checkable, true, provider.name);
  });

  it('passes the usual token calls of those providers it judges', () => {
    const byName = new Map(loaded.map((p) => [p.name, p]));
    const calls: Array<[string, Record<string, unknown>]> = [
      ['aws', { secretId: 'prod/anthropic', endpointUrl: 'http://127.0.0.1:4566' }],
      ['aws', { secretId: 'prod/llm', jsonKey: 'apiKey', region: 'eu-west-1', versionStage: 'AWSPREVIOUS' }],
      ['aws-credentials', { roleArn: 'arn:aws:iam::123456789012:role/bedrock-user', durationSeconds: 3600 }],
      ['jwt', { aud: 'claude-gateway', team: 'platform' }],
    ];
    for (const [name, values] of calls) {
      const provider = byName.get(name)!;
      assert.equal(agree(provider, describePlainOptions(provider.options), values), true, `${name} ${JSON.stringify(values)}`);
    }
  });
});
