// Turns a provider's zod options into commander flags, and flag values back into options.
import { Command, InvalidArgumentError, Option } from 'commander';
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

/** Reads the schema's shape through zod's JSON Schema export (public API, no internals). */
export function describeFields(schema: z.ZodType): FieldSpec[] {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return [];
  }
  const props = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([key, prop]) => {
    const variants = (prop.anyOf as Record<string, unknown>[] | undefined) ?? [prop];
    const types = new Set(variants.map((v) => v.type));
    const enumValues = variants.flatMap((v) => (Array.isArray(v.enum) ? (v.enum as unknown[]).map(String) : []));
    const type: FieldSpec['type'] = types.has('array')
      ? 'array'
      : types.size === 1 && types.has('boolean')
        ? 'boolean'
        : types.size === 1 && (types.has('number') || types.has('integer'))
          ? 'number'
          : 'string';
    const spec: FieldSpec = {
      key,
      flag: `--${kebab(key)}`,
      type,
      description: String(prop.description ?? variants.find((v) => v.description)?.description ?? ''),
      required: required.has(key) && prop.default === undefined,
    };
    if (enumValues.length) spec.choices = enumValues;
    if (type === 'boolean' && prop.default === true) spec.defaultOn = true;
    return spec;
  });
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n)) throw new InvalidArgumentError('not a number');
  return n;
}

/** Adds one commander option per field (the positional field becomes an argument instead). */
export function addFieldOptions(cmd: Command, fields: FieldSpec[], positional?: string): void {
  for (const f of fields) {
    if (f.key === positional) {
      cmd.argument(f.type === 'array' ? `[${kebab(f.key)}...]` : `[${kebab(f.key)}]`, f.description);
      // The flag form works too (`gcp --kind secret`), so profiles and scripts can be explicit.
      if (f.type !== 'array') cmd.addOption(new Option(`${f.flag} <value>`, `${f.description} (or as the first argument)`).hideHelp());
      continue;
    }
    const description = f.required ? `${f.description} (required)` : f.description;
    if (f.type === 'boolean') {
      const on = new Option(f.flag, description);
      const off = new Option(`--no-${kebab(f.key)}`, description);
      cmd.addOption(f.defaultOn ? on.hideHelp() : on);
      cmd.addOption(f.defaultOn ? off : off.hideHelp());
    } else if (f.type === 'array') {
      cmd.addOption(
        new Option(`${f.flag} <value>`, `${description} (repeatable)`).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
      );
    } else {
      const opt = new Option(`${f.flag} <${f.type === 'number' ? 'n' : 'value'}>`, description);
      if (f.choices) opt.choices(f.choices);
      if (f.type === 'number') opt.argParser(parseNumber);
      cmd.addOption(opt);
    }
  }
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
