// Reads a provider's zod options as command-line flags (for commander and the plain-call parser), and flag values back into options.
import * as z from 'zod';
import { kebab, parsePlainFlags, type FieldSpec, type PlainCheck, type PlainField, type PlainOptions } from './plain-flags.js';

export { collectFieldValues, kebab, type FieldSpec } from './plain-flags.js';

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

/** The plain-call parser (plain-flags.ts) over the flags of a provider's zod options. */
export function plainFlagValues(
  provider: { options: z.ZodType; positional?: string; commands?: Record<string, unknown> },
  args: readonly string[],
): Record<string, unknown> | undefined {
  return parsePlainFlags(describeFields(provider.options), provider, args);
}

/**
 * A provider's options as plain data for the plain-call parser and checker (plain-flags.ts): its
 * flags, and for each field what zod accepts as it is, where the definitions say so exactly (a
 * string's lengths, patterns and URL, a number's bounds, a choice, a boolean). A field that does
 * more (a transform, a refinement, a coercion, a format) gets no check: a value for it goes to zod.
 * A `.default()` is the value it had when the table was made (a default given as a function, called
 * then, would be frozen: the plain-call providers' defaults are constants).
 */
export function describePlainOptions(schema: z.ZodType): PlainOptions {
  const top = schema._zod.def as unknown as { type: string; shape?: Record<string, Schema>; checks?: unknown[]; catchall?: Schema };
  const checkable = top.type === 'object' && !top.checks?.length;
  const shape = top.shape ?? {};
  const fields = describeFields(schema).map(({ key, flag, type, choices }): PlainField => {
    const field = shape[key];
    return { key, flag, type, ...(choices ? { choices } : {}), ...(checkable && field ? plainField(field) : { absent: 'required' }) };
  });
  return { fields, checkable, stripsUnknown: checkable && top.catchall === undefined };
}

const JSON_PRIMITIVE = new Set(['string', 'number', 'boolean']);

/** A field's check and what zod makes of it left out: `.optional()` or `.default()` of a plain type, else nothing the table can tell. */
function plainField(schema: Schema): Pick<PlainField, 'check' | 'absent'> {
  const def = schema._zod.def as unknown as { type: string; innerType: Schema; defaultValue?: unknown };
  if (def.type === 'optional') {
    const check = plainCheck(def.innerType);
    return def.innerType._zod.optin === 'optional' ? { absent: 'required' } : { ...(check ? { check } : {}), absent: 'optional' };
  }
  if (def.type === 'default') {
    const value = def.defaultValue;
    const check = plainCheck(def.innerType);
    const plain = JSON_PRIMITIVE.has(typeof value) || (Array.isArray(value) && value.every((v) => JSON_PRIMITIVE.has(typeof v)));
    return plain ? { ...(check ? { check } : {}), absent: { value } } : { absent: 'required' };
  }
  const check = plainCheck(schema);
  return check ? { check, absent: 'required' } : { absent: 'required' };
}

const pattern = (re: RegExp): [string, string] => [re.source, re.flags];

/** What zod checks of a value of this type, when that is all it does (its output is the value). */
function plainCheck(schema: Schema): PlainCheck | undefined {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string; checks?: Array<{ _zod: { def: Record<string, unknown> } }> };
  if (def.coerce) return undefined;
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  switch (def.type) {
    case 'boolean':
      return checks.length ? undefined : { type: 'boolean' };
    case 'enum': {
      const values = Object.values(def.entries as Record<string, unknown>);
      return !checks.length && values.every((v) => typeof v === 'string') ? { type: 'enum', values: values as string[] } : undefined;
    }
    case 'array': {
      const of = plainCheck(def.element as Schema);
      return of && !checks.length ? { type: 'array', of } : undefined;
    }
    case 'number': {
      const check: Extract<PlainCheck, { type: 'number' }> = { type: 'number' };
      for (const c of [...(def.check ? [def] : []), ...checks]) {
        if (c.check === 'number_format' && c.format === 'safeint') check.int = true;
        else if (c.check === 'greater_than') check.min = [c.value as number, c.inclusive as boolean];
        else if (c.check === 'less_than') check.max = [c.value as number, c.inclusive as boolean];
        else return undefined;
      }
      return check;
    }
    case 'string': {
      const check: Extract<PlainCheck, { type: 'string' }> = { type: 'string' };
      if (def.format === 'url' && !def.normalize) {
        check.url = {
          ...(def.protocol ? { protocol: pattern(def.protocol as RegExp) } : {}),
          ...(def.hostname ? { hostname: pattern(def.hostname as RegExp) } : {}),
        };
      } else if (def.check !== undefined || def.format !== undefined) return undefined;
      for (const c of checks) {
        if (c.check === 'min_length') check.min = Math.max(check.min ?? 0, c.minimum as number);
        else if (c.check === 'max_length') check.max = Math.min(check.max ?? Infinity, c.maximum as number);
        else if (c.check === 'length_equals') {
          check.min = Math.max(check.min ?? 0, c.length as number);
          check.max = Math.min(check.max ?? Infinity, c.length as number);
        } else if (c.check === 'string_format' && c.format === 'regex') (check.patterns ??= []).push(pattern(c.pattern as RegExp));
        else return undefined;
      }
      return check;
    }
    default:
      return undefined;
  }
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
