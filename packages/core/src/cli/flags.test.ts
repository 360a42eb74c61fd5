// describeFields reads zod's definitions directly; zod's own JSON Schema export is the reference it must agree with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as z from 'zod';
import { builtinProviders } from '../builtin/index.js';
import { asProvider } from '../registry.js';
import { collectFieldValues, describeFields, kebab, plainFlagValues, type FieldSpec } from './flags.js';

/** The fields as the JSON Schema export describes them (how describeFields worked before). */
function fromJsonSchema(schema: z.ZodType): FieldSpec[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const props = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([key, prop]) => {
    const variants = (prop.anyOf as Record<string, unknown>[] | undefined) ?? [prop];
    const types = new Set(variants.map((v) => (v.type === 'integer' ? 'number' : v.type)));
    const choices = variants.flatMap((v) => (Array.isArray(v.enum) ? (v.enum as unknown[]).map(String) : []));
    const type: FieldSpec['type'] = types.has('array') ? 'array'
      : types.size === 1 && types.has('boolean') ? 'boolean'
      : types.size === 1 && types.has('number') ? 'number'
      : 'string';
    const spec: FieldSpec = {
      key,
      flag: `--${kebab(key)}`,
      type,
      description: String(prop.description ?? variants.find((v) => v.description)?.description ?? ''),
      required: required.has(key) && prop.default === undefined,
    };
    if (choices.length) spec.choices = choices;
    if (type === 'boolean' && prop.default === true) spec.defaultOn = true;
    return spec;
  });
}

describe('describeFields', () => {
  it('agrees with zod\'s JSON Schema export on wrappers, unions, literals and transforms', () => {
    const schema = z
      .object({
        count: z.int().optional().describe('an integer'),
        mode: z.literal(['x', 'y']).describe('two literals'),
        one: z.union([z.literal(1), z.literal('1')]).transform(Number).optional().describe('a transformed union'),
        nullable: z.string().nullable(),
        when: z.date().optional(),
        on: z.boolean().default(true).describe('on unless --no-on'),
        off: z.boolean().optional(),
        tags: z.array(z.string()).default([]),
        coerced: z.coerce.number().describe('coerced'),
        either: z.union([z.string().describe('inner'), z.number()]),
        outer: z.string().describe('inner').optional().describe('outer'),
        kind: z.enum(['p', 'q']).readonly(),
        anything: z.any(),
        prefaulted: z.string().prefault('x'),
      })
      .superRefine(() => {})
      .transform((o) => o);
    assert.deepEqual(describeFields(schema), fromJsonSchema(schema));
    // The case the flags depend on most: a boolean that defaults on shows as --no-<flag>.
    assert.equal(describeFields(schema).find((f) => f.key === 'on')?.defaultOn, true);
  });

  it('agrees with it on every built-in provider', async () => {
    for (const entry of builtinProviders) {
      const provider = asProvider(await entry.load(), entry.name);
      assert.deepEqual(describeFields(provider.options), fromJsonSchema(provider.options), provider.name);
    }
  });

  it('has no flags for a schema that is not an object', () => {
    assert.deepEqual(describeFields(z.string()), []);
  });
});

describe('plainFlagValues (the plain-call parser that keeps commander off a token call)', () => {
  const provider = {
    positional: 'kind',
    commands: { keygen: {} },
    options: z.object({
      kind: z.enum(['secret', 'token']).default('secret').describe('what to print'),
      path: z.string().optional().describe('the path'),
      version: z.coerce.number().optional().describe('a number'),
      skipVerify: z.boolean().optional().describe('off unless given'),
      verify: z.boolean().default(true).describe('on unless --no-verify'),
      auth: z.enum(['token', 'approle']).default('token').describe('a choice'),
      allow: z.array(z.string()).optional().describe('repeatable'),
    }),
  };

  /** What the commander program (the same option definitions) makes of these arguments. */
  async function viaCommander(args: string[]): Promise<Record<string, unknown>> {
    const { Command } = await import('commander');
    const { addFieldOptions } = await import('./program.js');
    const fields = describeFields(provider.options);
    const cmd = new Command('p').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    addFieldOptions(cmd, fields, provider.positional);
    let values: Record<string, unknown> = {};
    cmd.action((...a: unknown[]) => {
      values = collectFieldValues(fields, (a[a.length - 1] as InstanceType<typeof Command>).opts(), a[0], provider.positional);
    });
    await cmd.parseAsync(args, { from: 'user' });
    return values;
  }

  const plain = [
    [],
    ['--path', 'secret/x'],
    ['--path=secret/x', '--version', '3'],
    ['token', '--path', 'a'],
    ['--path', 'a', 'token'],
    ['--kind', 'token'],
    ['--skip-verify', '--no-verify', '--auth', 'approle'],
    ['--allow', 'https://a', '--path', 'p', '--allow=https://b'],
    ['--path='],
  ];
  for (const args of plain) {
    it(`parses ${JSON.stringify(args)} as commander does`, async () => {
      const values = plainFlagValues(provider, args);
      assert.ok(values, 'a plain call');
      assert.deepEqual(values, await viaCommander(args));
    });
  }

  const declined = [
    ['--help'],
    ['-h'],
    ['--unknown', 'x'],
    ['--path'],
    ['--path', '--skip-verify'],
    ['--path', 'a', '--path', 'b'],
    ['--version', 'three'],
    ['--auth', 'kerberos'],
    ['--skip-verify=yes'],
    ['keygen'],
    ['help'],
    ['secret', 'token'],
    ['--', 'x'],
    ['-p', 'x'],
  ];
  for (const args of declined) {
    it(`leaves ${JSON.stringify(args)} to commander`, () => {
      assert.equal(plainFlagValues(provider, args), undefined);
    });
  }

  it('leaves a provider whose positional takes many values (exec) to commander', () => {
    const exec = { positional: 'command', options: z.object({ command: z.array(z.string()).describe('the command') }) };
    assert.equal(plainFlagValues(exec, ['echo', 'x']), undefined);
  });
});
