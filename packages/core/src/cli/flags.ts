// Reads a provider's zod options as command-line flags (for commander and the plain-call parser), and flag values back into options.
import * as z from 'zod';

export interface FieldSpec {
  key: string;
  flag: string;
  type: 'string' | 'number' | 'boolean' | 'array';
  description: string;
  choices?: string[];
  required: boolean;
  /** A boolean that is on unless turned off: its help shows `--no-<flag>`, the form anyone would type. */
  defaultOn?: boolean;
}

export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The flags of a provider's options, read from the schema's definitions (zod's `_zod.def`, the
 * introspection zod documents for library authors). This used to go through `z.toJSONSchema`, which
 * gave the same fields but cost 15 to 30 ms of compilation on every cold call; only the top-level
 * keys are needed here: their input type, choices, description and whether they may be left out.
 */
export function describeFields(schema: z.ZodType): FieldSpec[] {
  const top = inputSide(schema);
  if (top?._zod.def.type !== 'object') return [];
  const shape = (top._zod.def as unknown as { shape: Record<string, Schema> }).shape;
  return Object.entries(shape).map(([key, field]) => {
    const info = describeInput(field);
    const type: FieldSpec['type'] = info.types.has('array')
      ? 'array'
      : info.types.size === 1 && info.types.has('boolean')
        ? 'boolean'
        : info.types.size === 1 && info.types.has('number')
          ? 'number'
          : 'string';
    const spec: FieldSpec = { key, flag: `--${kebab(key)}`, type, description: info.description ?? '', required: !info.optional };
    if (info.choices.length) spec.choices = info.choices;
    if (type === 'boolean' && info.defaultValue === true) spec.defaultOn = true;
    return spec;
  });
}

type Schema = z.core.$ZodType;

/** What a value given for this field must look like (the input side of pipes and transforms). */
interface InputInfo {
  /** JSON-ish type names of the accepted values; 'unknown' for anything a flag cannot spell. */
  types: Set<string>;
  choices: string[];
  description?: string;
  optional: boolean;
  defaultValue?: unknown;
}

const description = (s: Schema): string | undefined => z.globalRegistry.get(s)?.description;

/** A pipe's input schema (an object with `.transform()` is a pipe), or the schema itself. */
function inputSide(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  while (s?._zod?.def.type === 'pipe') s = (s._zod.def as unknown as { in: Schema }).in;
  return s?._zod ? s : undefined;
}

function describeInput(schema: Schema): InputInfo {
  const info: InputInfo = { types: new Set(), choices: [], optional: false };
  let variantDescription: string | undefined;
  const walk = (s: Schema, outer: boolean): void => {
    // The outermost description wins (`.describe()` on an `.optional()` overrides the inner one).
    if (outer && info.description === undefined) info.description = description(s);
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
        info.optional = true;
        return walk(def.innerType as Schema, outer);
      case 'default':
      case 'prefault':
        info.optional = true;
        if (outer && info.defaultValue === undefined) info.defaultValue = def.defaultValue;
        return walk(def.innerType as Schema, outer);
      case 'nullable':
        info.types.add('null');
        return walk(def.innerType as Schema, outer);
      case 'readonly':
      case 'nonoptional':
      case 'catch':
        return walk(def.innerType as Schema, outer);
      case 'pipe':
        return walk(def.in as Schema, outer);
      case 'union':
        for (const option of def.options as Schema[]) {
          variantDescription ??= description(option);
          walk(option, false);
        }
        return;
      case 'enum': {
        const values = Object.values(def.entries as Record<string, string | number>);
        for (const v of values) info.types.add(typeof v);
        info.choices.push(...values.map(String));
        return;
      }
      case 'literal': {
        const values = def.values as unknown[];
        for (const v of values) info.types.add(v === null ? 'null' : typeof v);
        if (values.length > 1) info.choices.push(...values.map(String));
        return;
      }
      case 'string':
      case 'number':
      case 'boolean':
      case 'array':
        info.types.add(def.type);
        return;
      default:
        // Anything a command-line value cannot spell exactly (dates, bigints, objects, `z.any()`).
        info.types.add('unknown');
    }
  };
  walk(schema, true);
  info.description ??= variantDescription;
  return info;
}

/**
 * A provider's flag values from its arguments, parsed as the commander program would parse them,
 * for the calls where commander would have nothing to say: every flag one of the provider's own,
 * given once, with a value that is not itself a flag; at most one bare argument, for a provider
 * with a single-value positional option. Returns undefined for anything else (help, `--`, short
 * flags, unknown or repeated flags, a missing value, a value outside the choices or not a number,
 * an extra command), so that commander parses it and owns the message.
 */
export function plainFlagValues(
  provider: { options: z.ZodType; positional?: string; commands?: Record<string, unknown> },
  args: readonly string[],
): Record<string, unknown> | undefined {
  const fields = describeFields(provider.options);
  const positionalField = fields.find((f) => f.key === provider.positional);
  if (positionalField?.type === 'array') return undefined;
  const opts: Record<string, unknown> = {};
  let positionalValue: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') || !positionalField || positionalValue !== undefined) return undefined;
      if (arg === 'help' || Object.hasOwn(provider.commands ?? {}, arg)) return undefined;
      positionalValue = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const field = fields.find((f) => f.flag === name || (f.type === 'boolean' && `--no-${kebab(f.key)}` === name));
    if (!field || (field.type !== 'array' && Object.hasOwn(opts, field.key))) return undefined;
    if (field.type === 'boolean') {
      if (eq !== -1) return undefined;
      opts[field.key] = name === field.flag;
      continue;
    }
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value.startsWith('-')) return undefined;
    if (field.choices && !field.choices.includes(value)) return undefined;
    if (field.type === 'array') opts[field.key] = [...((opts[field.key] as string[] | undefined) ?? []), value];
    else if (field.type === 'number') {
      if (value.trim() === '' || Number.isNaN(Number(value))) return undefined;
      opts[field.key] = Number(value);
    } else opts[field.key] = value;
  }
  return collectFieldValues(fields, opts, positionalValue, provider.positional);
}

/** Options given on the command line, keyed by schema field (undefined ones left out). */
export function collectFieldValues(
  fields: FieldSpec[],
  opts: Record<string, unknown>,
  positionalValue: unknown,
  positional?: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.key === positional) {
      const empty = positionalValue === undefined || (Array.isArray(positionalValue) && positionalValue.length === 0);
      if (!empty) out[f.key] = positionalValue;
      else if (opts[f.key] !== undefined) out[f.key] = opts[f.key];
      continue;
    }
    if (opts[f.key] !== undefined) out[f.key] = opts[f.key];
  }
  return out;
}

/**
 * A provider's option errors in the user's terms: the flag (`--secret-id is required`), not zod's
 * path (`secretId: Invalid input: expected string, received undefined`). Profile keys are the same
 * words, so the line reads right for a profile too.
 */
export function describeOptionsError(error: z.ZodError, positional?: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const [head, ...rest] = issue.path.map(String);
      // The positional option is usually given bare (`exec -- CMD`, `gcp secret`): name it as an argument.
      const flag =
        head === undefined ? 'options'
        : head === positional ? `the ${kebab(head)} argument`
        : `--${kebab(head)}${rest.length ? ` (${rest.join('.')})` : ''}`;
      const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
      return missing ? `${flag} is required` : `${flag}: ${issue.message.replace(/^Invalid (input|option): /, '')}`;
    })
    .join('; ');
}
