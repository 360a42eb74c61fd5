// Cache identity: what a token was fetched for, from resolved inputs, so a token never crosses contexts.
//
// Node built-ins only: the warm path computes the final key from a stored IdentityRecord without
// loading any provider. The full CLI builds the record from the provider's `identity()` declaration.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { hashKey, sha256, stableStringify } from './cache/entry.js';
import { expandHome } from './secret-ref.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The Claude Code hook a token is printed for. The same profile used for two hooks is two identities. */
export type Purpose = 'apiKeyHelper' | 'otelHeadersHelper' | 'awsCredentialExport';

/**
 * Where each hook's output is sent. These variables come from the settings.json that runs the
 * helper (e.g. one ANTHROPIC_BASE_URL per project after `init --project`), so a token fetched for
 * one gateway is never printed for another.
 */
export const PURPOSE_ENV: Record<Purpose, readonly string[]> = {
  apiKeyHelper: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_BEDROCK_BASE_URL', 'ANTHROPIC_VERTEX_BASE_URL'],
  otelHeadersHelper: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'],
  awsCredentialExport: [],
};

/** A local source: read on every call, never copied into the cache. */
export type LocalSource = { env: string } | { file: string };

/**
 * What an invocation (argv, profile, cwd) resolved to, stored without any secret so the warm path
 * can find the entry. Values of `env` and `files` are hashed into the final key at every lookup.
 */
export interface IdentityRecord {
  v: 1;
  /** The invocation key this record was written under. */
  key: string;
  /** Hash of the static resolved identity: helper, purpose, provider, resolved inputs. */
  base: string;
  env: string[];
  files: string[];
  local?: LocalSource;
}

export function parseIdentityRecord(text: string, key: string): IdentityRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<IdentityRecord>;
    const strings = (a: unknown) => Array.isArray(a) && a.every((x) => typeof x === 'string');
    if (r.v !== 1 || r.key !== key || typeof r.base !== 'string' || !strings(r.env) || !strings(r.files)) return undefined;
    if (r.files!.some((f) => !isAbsolute(f))) return undefined;
    const l = r.local as Record<string, unknown> | undefined;
    if (l !== undefined && typeof l.env !== 'string' && (typeof l.file !== 'string' || !isAbsolute(l.file))) return undefined;
    return r as IdentityRecord;
  } catch {
    return undefined;
  }
}

function fileHash(path: string): string {
  try {
    return sha256(readFileSync(path, 'latin1'));
  } catch {
    return 'missing';
  }
}

/** The cache key for this record under the current values of its environment variables and files. */
export function finalKey(record: Pick<IdentityRecord, 'base' | 'env' | 'files'>, env: Env): string {
  return hashKey({
    b: record.base,
    e: record.env.map((n) => [n, env[n] === undefined ? null : sha256(env[n]!)]),
    f: record.files.map((p) => [p, fileHash(p)]),
  });
}

/** What a provider's `identity()` gets: resolvers that record what the token depends on. */
export interface IdentityBuilder {
  /** The working directory of this run. Use it only when the token depends on it. */
  readonly cwd: string;
  readonly env: Env;
  /** An absolute path: `~` expanded, a relative path resolved against the working directory. */
  path(path: string): string;
  /**
   * A secret reference as identity: `env:NAME` and `file:PATH` by name plus the hash of their
   * current value (re-checked on every lookup), `keychain:S/A` by name, `profile:NAME` by the
   * profile's content. A literal is hashed.
   */
  ref(ref: string): unknown;
  /** An environment variable whose value changes the token. */
  envVar(name: string): void;
  /**
   * Options as identity: each key in `refs` through `ref`, each in `paths` through `path`, every
   * other key as given (unset keys left out). Covers most providers in one line.
   */
  options(values: object, kinds: { refs?: readonly string[]; paths?: readonly string[] }): Record<string, unknown>;
}

export interface IdentityBuilderOptions {
  cwd: string;
  env: Env;
  /** The config content of a profile, for `profile:NAME` references (undefined: unknown profile). */
  profile(name: string): unknown;
}

export interface Collected {
  builder: IdentityBuilder;
  env: Set<string>;
  files: Set<string>;
}

export function identityBuilder(opts: IdentityBuilderOptions): Collected {
  const env = new Set<string>();
  const files = new Set<string>();
  const path = (p: string) => resolve(opts.cwd, expandHome(p, opts.env));
  const builder: IdentityBuilder = {
    cwd: opts.cwd,
    env: opts.env,
    path,
    ref(ref) {
      const colon = ref.indexOf(':');
      const scheme = colon > 0 ? ref.slice(0, colon) : '';
      const rest = ref.slice(colon + 1);
      switch (scheme) {
        case 'env':
          env.add(rest);
          return { env: rest };
        case 'file': {
          const abs = path(rest);
          files.add(abs);
          return { file: abs };
        }
        case 'keychain':
          return { keychain: rest };
        case 'profile':
          return { profile: rest, content: sha256(stableStringify(opts.profile(rest) ?? null)) };
        default:
          return { literal: sha256(ref) };
      }
    },
    envVar(name) {
      env.add(name);
    },
    options(values, kinds) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) continue;
        if (typeof v === 'string' && kinds.refs?.includes(k)) out[k] = builder.ref(v);
        else if (typeof v === 'string' && kinds.paths?.includes(k)) out[k] = path(v);
        else out[k] = v;
      }
      return out;
    },
  };
  return { builder, env, files };
}

/** The stored record for an invocation: static identity hashed, volatile inputs named. */
export function identityRecord(
  invocationKey: string,
  parts: { helper: string; purpose: Purpose; provider: string; inputs: unknown; local?: LocalSource },
  collected: Collected,
): IdentityRecord {
  for (const name of PURPOSE_ENV[parts.purpose]) collected.env.add(name);
  return {
    v: 1,
    key: invocationKey,
    base: hashKey({ h: parts.helper, u: parts.purpose, p: parts.provider, i: parts.inputs, l: parts.local ?? null }),
    env: [...collected.env].sort(),
    files: [...collected.files].sort(),
    ...(parts.local ? { local: parts.local } : {}),
  };
}
