// The one config loader: YAML or JSON, validated, with errors that name the file and the field.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as z from 'zod';
import { ConfigError } from './errors.js';
import { camel, ENGINE_FLAGS, fileStamp, normaliseKeys, snapshotName, type ConfigFile } from './invocation.js';
import type { FileStore } from './cache/file-store.js';

/**
 * The config file's schema, built on first use: most cold calls name a provider on the command
 * line and read no config file, so they should not pay for building it.
 */
let configSchema: ReturnType<typeof buildConfigSchema> | undefined;

function buildConfigSchema() {
  // From the engine flag table: each setting flag is a key in either spelling (`max-age`, `maxAge`).
  // Values are checked when used (resolveEngineSettings), with the key named in the message.
  const engineKeys = Object.fromEntries(
    ENGINE_FLAGS.filter((f) => 'setting' in f).flatMap((f) => {
      const value = f.value === 'duration' ? z.union([z.string(), z.number()]).optional() : z.string().optional();
      return [...new Set([f.flag.slice(2), camel(f.flag)])].map((k) => [k, value] as const);
    }),
  );
  return z
    .object({
      defaults: z.object(engineKeys).strict().optional(),
      profiles: z
        .record(
          z.string().regex(/^[A-Za-z0-9._-]+$/, 'profile names use letters, digits, ".", "_" and "-"'),
          z.looseObject({ provider: z.string().min(1, 'name the provider, e.g. provider: vault'), description: z.string().optional(), ...engineKeys }),
        )
        .optional(),
    })
    .strict();
}

/** "profiles.work.provider: Required" style text for the first few issues. */
export function describeZodError(error: z.ZodError, prefix = ''): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return `${prefix}${path ? `${path}: ` : ''}${issue.message}`;
    })
    .join('; ');
}

/** Parses and validates `path`; on success leaves a JSON snapshot for the warm path. */
export async function loadConfigFile(path: string, store: FileStore): Promise<ConfigFile> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ConfigError(`cannot read config file ${path} (${code === 'ENOENT' ? 'it does not exist' : code})`, {
      hint: 'check --config / CLAUDE_KEY_CONFIG',
    });
  }
  const stamp = fileStamp(path);
  let data: unknown;
  try {
    if (path.endsWith('.json')) data = JSON.parse(text);
    else data = (await import('yaml')).parse(text);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new ConfigError(`config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${first}`);
  }
  const parsed = (configSchema ??= buildConfigSchema()).safeParse(data ?? {});
  if (!parsed.success) throw new ConfigError(`config file ${path}: ${describeZodError(parsed.error)}`);
  const config: ConfigFile = {
    path,
    defaults: normaliseKeys(parsed.data.defaults ?? {}),
    profiles: (parsed.data.profiles ?? {}) as Record<string, Record<string, unknown>>,
  };
  // Only a config JSON carries exactly (a YAML `.inf` would come back as null): what the warm path
  // and a plain call read from the snapshot is then what this loader returns.
  if (stamp && jsonExact(config)) {
    try {
      store.writeNamed(snapshotName(path), JSON.stringify({ stamp, config }));
    } catch {
      // Without a snapshot the warm path just defers to this loader; nothing is lost.
    }
  }
  return config;
}

/** Whether JSON.stringify then JSON.parse gives this value back unchanged. */
function jsonExact(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(jsonExact);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value as Record<string, unknown>).every(([k, v]) => k !== '__proto__' && jsonExact(v));
}

export function configBaseDir(config: ConfigFile | undefined): string | undefined {
  return config ? dirname(config.path) : undefined;
}
