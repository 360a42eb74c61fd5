// describeFields reads zod's definitions directly; zod's own JSON Schema export is the reference it must agree with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as z from 'zod';
import { builtinProviders } from '../builtin/index.js';
import { asProvider } from '../registry.js';
import { collectFieldValues, describeFields, describePlainOptions, kebab, plainFlagValues, type FieldSpec } from './flags.js';
import { checkPlainOptions } from './plain-flags.js';

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

describe('describePlainOptions (the plain checker: zod\'s verdict without zod, where the definitions tell it)', () => {
  const schema = z.object({
    name: z.string().min(2).max(5).regex(/^[a-z]+$/i),
    exact: z.string().length(3).optional(),
    url: z.url({ protocol: /^https?$/, hostname: /^[a-z.]+$/ }).optional(),
    anyUrl: z.url().optional(),
    normalized: z.url({ normalize: true }).optional(),
    email: z.email().optional(),
    trimmed: z.string().trim().optional(),
    refined: z.string().refine((s) => s !== 'no').optional(),
    count: z.int().min(1).max(10).optional(),
    ratio: z.number().gt(0).lt(1).optional(),
    step: z.number().multipleOf(2).optional(),
    coerced: z.coerce.number().optional(),
    mode: z.enum(['a', 'b']).default('a'),
    on: z.boolean().default(true),
    tags: z.array(z.string().min(1)).default([]),
    urls: z.array(z.url()).optional(),
    sized: z.array(z.string()).min(1).optional(),
    duration: z.union([z.number(), z.string()]).transform(Number).optional(),
    dflt: z.string().optional().default('x'),
    nullable: z.string().nullable().optional(),
    literal: z.literal('x').optional(),
    made: z.string().default(() => 'made'),
  });
  const table = describePlainOptions(schema);
  const values = ['', 'a', 'ab', 'abc', 'abcde', 'abcdef', 'a1', 'AB', ' ab', 'https://a.b', 'http://a.b/x', 'https://A1.b', 'ftp://a.b', 'https:/a.b', ' https://a.b', 'x@y.z', 'no', 'x', 'made', '😀', 'a😀', '😀😀😀', '\ud800\ud800', 'abc😀',
    0, 0.5, 1, 2, 3, 10, 11, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, true, false, null, [], [''], ['a'], ['https://a.b'], ['a', ''], {}];

  it('passes nothing zod refuses, and passes it as zod outputs it', () => {
    let passed = 0;
    for (const field of table.fields) {
      for (const value of values) {
        const input = { name: 'ab', [field.key]: value };
        const plain = checkPlainOptions(table, input);
        const parsed = schema.safeParse(input);
        if (!parsed.success) assert.equal(plain, undefined, JSON.stringify(input));
        else if (plain) {
          passed++;
          assert.deepEqual(plain, parsed.data);
          assert.deepEqual(Object.keys(plain), Object.keys(parsed.data));
        }
      }
    }
    assert.ok(passed > 40, `it passes the plain cases (${passed})`);
  });

  it('leaves to zod what it cannot judge', () => {
    const unjudged = table.fields.filter((f) => !f.check).map((f) => f.key);
    assert.deepEqual(unjudged, ['normalized', 'email', 'trimmed', 'refined', 'step', 'coerced', 'sized', 'duration', 'dflt', 'nullable', 'literal']);
    assert.equal(describePlainOptions(schema.superRefine(() => {})).checkable, false);
    assert.equal(describePlainOptions(schema.transform((o) => o)).checkable, false);
    assert.equal(checkPlainOptions(describePlainOptions(schema.strict().refine(() => true)), { name: 'ab' }), undefined);
    // A key the schema does not know: dropped as zod drops it, or left to a strict or loose schema.
    assert.deepEqual(checkPlainOptions(table, { name: 'ab', provider: 'x' }), schema.parse({ name: 'ab', provider: 'x' }));
    assert.equal(checkPlainOptions(describePlainOptions(schema.strict()), { name: 'ab', provider: 'x' }), undefined);
    assert.equal(checkPlainOptions(describePlainOptions(schema.loose()), { name: 'ab', provider: 'x' }), undefined);
    assert.deepEqual(checkPlainOptions(describePlainOptions(schema.strict()), { name: 'ab' }), schema.strict().parse({ name: 'ab' }));
  });
});
