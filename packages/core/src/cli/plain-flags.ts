// The plain-call parser and option checker: a provider's flags and option checks as plain data
// (flags.ts reads them from its zod schema; the claude-key build writes them into the plain-call
// bundle), so a token call is parsed and its options checked without zod. No zod import here.

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

/**
 * What a value given for a field must be, as far as the plain checker knows it; a field without a
 * check is one it cannot judge (a transform, a refinement), and a value for it goes to zod.
 */
export type PlainCheck =
  | { type: 'string'; min?: number; max?: number; patterns?: Array<[source: string, flags: string]>; url?: { protocol?: [string, string]; hostname?: [string, string] } }
  | { type: 'number'; int?: boolean; min?: [value: number, inclusive: boolean]; max?: [value: number, inclusive: boolean] }
  | { type: 'boolean' }
  | { type: 'enum'; values: string[] }
  | { type: 'array'; of: PlainCheck };

/** A field as the plain parser and checker need it (no help texts). */
export interface PlainField extends Pick<FieldSpec, 'key' | 'flag' | 'type' | 'choices'> {
  check?: PlainCheck;
  /** The value zod puts in when the field is left out (a `.default()`); `optional` when it leaves it out. */
  absent: { value: unknown } | 'optional' | 'required';
}

/**
 * A provider's options as plain data. `checkable` is false when the schema as a whole does more
 * than check its fields (a refinement, a transform, extra keys kept): the plain checker then
 * judges nothing and every call goes through zod.
 */
export interface PlainOptions {
  fields: PlainField[];
  checkable: boolean;
  /** The schema drops keys it does not know (a profile's `provider`, say); a strict or loose one leaves them to zod. */
  stripsUnknown: boolean;
}

/**
 * The `code` of the error that what stands in for zod in a build without it throws (the claude-key
 * plain-call bundle for aws, scripts/bundle.mjs): the call needs zod, so the full CLI takes it
 * over; runPlainCli hands it on as it does any call it leaves (nothing printed, nothing fetched).
 */
export const NEEDS_ZOD = 'claude-key.needsZod';

export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * A provider's flag values from its arguments, parsed as the commander program would parse them,
 * for the calls where commander would have nothing to say: every flag one of the provider's own,
 * given once, with a value that is not itself a flag; at most one bare argument, for a provider
 * with a single-value positional option. Returns undefined for anything else (help, `--`, short
 * flags, unknown or repeated flags, a missing value, a value outside the choices or not a number,
 * an extra command), so that commander parses it and owns the message.
 */
export function parsePlainFlags(
  fields: readonly PlainField[] | readonly FieldSpec[],
  provider: { positional?: string; commands?: Record<string, unknown> },
  args: readonly string[],
): Record<string, unknown> | undefined {
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
  fields: readonly Pick<FieldSpec, 'key'>[],
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
 * The options zod would make of these values (its output, keys in schema order), when the plain
 * checks can tell they pass; undefined when they fail or cannot be judged here, for zod to decide
 * and word the error.
 */
export function checkPlainOptions(options: PlainOptions, values: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!options.checkable) return undefined;
  if (!options.stripsUnknown && Object.keys(values).some((k) => !options.fields.some((f) => f.key === k))) return undefined;
  const out: Record<string, unknown> = {};
  for (const field of options.fields) {
    const value = values[field.key];
    if (value === undefined) {
      if (field.absent === 'required') return undefined;
      // A copy, as zod's default is: the provider may change what it is given.
      if (field.absent !== 'optional') out[field.key] = Array.isArray(field.absent.value) ? [...field.absent.value] : field.absent.value;
      continue;
    }
    if (!field.check || !passes(field.check, value)) return undefined;
    out[field.key] = value;
  }
  return out;
}

const regex = ([source, flags]: [string, string]) => new RegExp(source, flags);

function passes(check: PlainCheck, value: unknown): boolean {
  switch (check.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && check.values.includes(value);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || (check.int && !Number.isSafeInteger(value))) return false;
      if (check.min && (check.min[1] ? value < check.min[0] : value <= check.min[0])) return false;
      return !check.max || (check.max[1] ? value <= check.max[0] : value < check.max[0]);
    case 'array':
      return Array.isArray(value) && value.every((v) => passes(check.of, v));
    case 'string':
      if (typeof value !== 'string') return false;
      // zod counts a surrogate pair as one character: such a string goes to zod.
      if ((check.min !== undefined || check.max !== undefined) && /[\ud800-\udfff]/.test(value)) return false;
      if (check.min !== undefined && value.length < check.min) return false;
      if (check.max !== undefined && value.length > check.max) return false;
      if (check.patterns?.some((p) => !regex(p).test(value))) return false;
      return !check.url || urlPasses(check.url, value);
  }
}

/**
 * A URL zod takes as it is (its output is the input): no surrounding space, tab or newline to
 * strip, `scheme://`, parsed by URL, protocol and hostname as required. Anything else goes to zod.
 */
function urlPasses(url: NonNullable<Extract<PlainCheck, { type: 'string' }>['url']>, value: string): boolean {
  if (value !== value.trim() || /[\t\n\r]/.test(value) || !/^https?:\/\//i.test(value)) return false;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return false;
  }
  if (url.hostname && !regex(url.hostname).test(parsed.hostname)) return false;
  return !url.protocol || regex(url.protocol).test(parsed.protocol.replace(/:$/, ''));
}
