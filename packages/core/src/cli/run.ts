// The full CLI: runs when the warm path cannot answer. Owns argv, stdout, stderr and exit codes.
// A plain token call (`claude-key vault --path x --field y`, `claude-key --profile work`) is parsed
// here without commander; everything else (help, parse errors, the other commands) goes to the
// commander program in program.ts, loaded only then.
import { accessSync, constants } from 'node:fs';
import * as z from 'zod';
import { ClaudeKeyError, ConfigError, ExitCode, InternalError, UsageError, isClaudeKeyError } from '../errors.js';
import { redact } from '../redact.js';
import { cacheDir } from '../paths.js';
import { FileStore } from '../cache/file-store.js';
import { findClaudeCodeCaller } from '../caller.js';
import { Engine, type TokenResult } from '../engine.js';
import { loadConfigFile, configBaseDir } from '../config.js';
import {
  configPath,
  resolveEngineSettings,
  resolveTarget,
  splitArgs,
  invocationKey,
  loadConfigFast,
  type ConfigFile,
  type SplitArgs,
} from '../invocation.js';
import { ProviderRegistry } from '../registry.js';
import type { CommandIO, Provider, ProviderLogger, Purpose, TokenStore } from '../provider.js';
import { endOfLife } from '../cache/entry.js';
import { formatDuration } from '../duration.js';
import type { SecretScheme } from '../secret-ref.js';
import { describeOptionsError, plainFlagValues } from './flags.js';
import { checkPlainOptions, NEEDS_ZOD, parsePlainFlags } from './plain-flags.js';
import { readSecret, type HelperIO } from './io.js';
import type { HelperSpec } from '../helper.js';

/** Everything one CLI run shares: parsed args, config, registry and engine. */
export interface RunContext {
  spec: HelperSpec;
  io: HelperIO;
  split: SplitArgs;
  config: ConfigFile | undefined;
  registry: ProviderRegistry;
  engine: Engine;
  store: FileStore;
  now: () => number;
  /** Warnings and `--verbose` lines on stderr. */
  log: ProviderLogger;
  /** A non-file token store by name (`keychain`), loaded on first use. */
  tokenStore(name: string): Promise<TokenStore>;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(spec: HelperSpec, argv: readonly string[], io: HelperIO): Promise<number> {
  const label = { value: '' };
  try {
    const start = await startRun(spec, argv, io, label);
    if (typeof start === 'number') return start;
    const { ctx, selected } = start;
    const { buildProgram } = await import('./program.js');
    let exit = 0;
    const program = buildProgram(ctx, selected, {
      setLabel: (l) => {
        label.value = l;
      },
      setExit: (code) => {
        exit = code;
      },
    });
    // Engine flags were taken out by splitArgs (they may stand anywhere); commander sees the rest,
    // with options positional so `jwt keygen --alg` reaches keygen, not jwt.
    await program.parseAsync(ctx.split.command ? [ctx.split.command, ...ctx.split.rest] : ctx.split.rest, { from: 'user' });
    return exit;
  } catch (err) {
    return report(err, spec.name, label.value, io);
  }
}

/**
 * A plain token call only (the plain-call bundle, scripts/bundle.mjs): the exit code when this is
 * one, else undefined, with nothing printed, so the caller hands the arguments to runCli. Up to
 * that point it does what runCli does, step for step: the same errors, the same messages.
 */
export async function runPlainCli(spec: HelperSpec, argv: readonly string[], io: HelperIO): Promise<number | undefined> {
  const label = { value: '' };
  try {
    const start = await startRun(spec, argv, io, label, true);
    return typeof start === 'number' ? start : undefined;
  } catch (err) {
    if ((err as { code?: unknown } | undefined)?.code === NEEDS_ZOD) return undefined;
    return report(err, spec.name, label.value, io);
  }
}

/** The run up to commander: a plain call runs here (resolves to 0); anything else returns its context. */
async function startRun(spec: HelperSpec, argv: readonly string[], io: HelperIO, label: { value: string }, plainOnly = false): Promise<number | { ctx: RunContext; selected: { name: string; provider?: Provider } }> {
  // A CLI process parses each schema once: zod's generated fast path (code built with new Function
  // on an object schema's first parse) costs more to build and compile than it saves on one parse.
  z.config({ jitless: true });
  const split = splitArgs(argv);
  const ctx = await createRunContext(spec, split, io, plainOnly);
  const selected = await selectedProvider(ctx);
  const plain = split.wantsHelp ? undefined : plainCall(split, selected.provider, spec);
  if (!plain) return { ctx, selected };
  await printToken(ctx, plain.flagValues, selected.provider, (l) => (label.value = l));
  return 0;
}

/**
 * A token call, however it was parsed (the plain-call parser or a commander action): names it for
 * error messages, then prints the token, the one line this process writes to stdout. Without a
 * provider it is `--profile NAME` alone.
 */
export async function printToken(ctx: RunContext, flagValues: Record<string, unknown>, provider: Provider | undefined, setLabel: (label: string) => void): Promise<void> {
  const { split } = ctx;
  if (!provider) setLabel(`profile ${resolveTarget(split, ctx.config).profileName}`);
  else setLabel(split.engine.profile ? `profile ${split.engine.profile} (${provider.name})` : provider.name);
  const result = await fetchToken(ctx, split, flagValues, 0, provider);
  ctx.io.stdout(`${result.token}\n`);
}

/**
 * A token call commander would parse without a word to say: a provider with flags it knows, or a
 * profile alone. Anything else (help, an unknown or repeated flag, a missing or odd value, an
 * extra command) returns undefined and goes to commander, which owns those messages.
 */
function plainCall(split: SplitArgs, provider: Provider | undefined, spec: HelperSpec): { flagValues: Record<string, unknown> } | undefined {
  if (!split.command) return split.engine.profile !== undefined && split.rest.length === 0 ? { flagValues: {} } : undefined;
  if (!provider) return undefined;
  // The provider's flags as plain data (HelperSpec.plainOptions, the plain-call bundle), else from its schema.
  const table = spec.plainOptions?.[provider.name];
  const flagValues = table ? parsePlainFlags(table.fields, provider, split.rest) : plainFlagValues(provider, split.rest);
  return flagValues && { flagValues };
}

/** Commander's own errors (help shown, version, a parse error it already printed), told apart without loading it. */
function commanderCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('commander.') ? code : undefined;
}

function report(err: unknown, helperName: string, label: string, io: HelperIO): number {
  const commander = commanderCode(err);
  if (commander) {
    if (commander === 'commander.helpDisplayed' || commander === 'commander.version' || commander === 'commander.help') return 0;
    return ExitCode.usage; // commander already printed its one line
  }
  const e: ClaudeKeyError = isClaudeKeyError(err)
    ? err
    : new InternalError(`unexpected error: ${redact(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
  // Engine and provider errors already start with their label ("profile work (vault) ..."): one prefix, not two.
  const prefix = label && !e.line.startsWith(`${label}:`) && !e.line.startsWith(`${label} `) ? `${label}: ` : '';
  io.stderr(redact(`${helperName}: ${prefix}${e.line}`));
  if (e.exitCode === ExitCode.internal && process.env.CLAUDE_KEY_DEBUG && err instanceof Error && err.stack) {
    io.stderr(redact(err.stack));
  }
  return e.exitCode;
}

/**
 * With `fromSnapshot` (a plain call), a config file unchanged since it was loaded and validated
 * comes from the snapshot that load left (loadConfigFile; the warm path reads it too): no YAML, no
 * zod, the same config. A file that cannot be read now goes to the loader, for its error.
 */
export async function createRunContext(spec: HelperSpec, split: SplitArgs, io: HelperIO, fromSnapshot = false): Promise<RunContext> {
  const store = new FileStore(cacheDir(spec.name, io.env));
  const located = configPath(spec.name, split.engine.config, io.env);
  const snapshot = located && fromSnapshot && readable(located.path) ? loadConfigFast(located.path, store) : null;
  const config = located ? (snapshot ?? (await loadConfigFile(located.path, store))) : undefined;
  const base = configBaseDir(config);
  const registry = new ProviderRegistry(spec.providers, [...(base ? [base] : []), io.cwd, ...(spec.pluginDirs ?? [])]);
  const now = spec.now ?? Date.now;
  const verbose = split.engine.verbose === true || io.env.CLAUDE_KEY_DEBUG === '1';
  const stores = new Map<string, Promise<TokenStore>>();
  const tokenStore = (name: string) => {
    if (!stores.has(name)) stores.set(name, loadTokenStore(spec, name));
    return stores.get(name)!;
  };
  const schemes = new Map<string, Promise<SecretScheme>>();
  const log: ProviderLogger = {
    warn: (m) => io.stderr(redact(`${spec.name}: warning: ${m}`)),
    debug: (m) => {
      if (verbose) io.stderr(redact(`${spec.name}: ${m}`));
    },
  };
  const ctx: RunContext = { spec, io, split, config, registry, store, now, log, tokenStore, engine: undefined as unknown as Engine };
  ctx.engine = new Engine({
    helperName: spec.name,
    store,
    env: io.env,
    now,
    caller: spec.caller ?? (() => findClaudeCodeCaller()),
    log,
    secretScheme: (name) => {
      const loader = spec.secretSchemes?.[name];
      if (!loader) return undefined;
      if (!schemes.has(name)) schemes.set(name, loader());
      return schemes.get(name);
    },
    tokenStore,
    profileToken: async (name, depth) => (await tokenForProfile(ctx, name, depth)).token,
    profileContent: (name) => config?.profiles[name],
  });
  return ctx;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function loadTokenStore(spec: HelperSpec, name: string): Promise<TokenStore> {
  const loader = spec.tokenStores?.[name];
  if (!loader) {
    throw new UsageError(`unknown cache store "${name}"`, {
      hint: `use file, off${Object.keys(spec.tokenStores ?? {}).map((n) => `, ${n}`).join('')}`,
    });
  }
  return loader();
}

/** Parses, merges (profile, then flags) and validates provider options; errors name the field. */
export function validateOptions(provider: Provider, label: string, merged: Record<string, unknown>, helperName: string): unknown {
  const parsed = provider.options.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`${label}: ${describeOptionsError(parsed.error, provider.positional)}`, { hint: `see ${helperName} ${provider.name} --help` });
  }
  return parsed.data;
}

/** Runs one token request for a target through the engine. */
export async function fetchToken(
  ctx: RunContext,
  split: SplitArgs,
  flagOptions: Record<string, unknown>,
  depth = 0,
  providerOverride?: Provider,
  purpose?: Purpose,
): Promise<TokenResult & { label: string }> {
  const target = resolveTarget(split, ctx.config);
  const provider = providerOverride ?? (await ctx.registry.load(target.provider));
  const label = target.profileName ? `profile ${target.profileName} (${target.provider})` : target.provider;
  const settings = resolveEngineSettings(split.engine, target.profileEngine, ctx.config?.defaults ?? {}, ctx.io.env);
  const merged = { ...target.profileOptions, ...flagOptions };
  // The plain checker (the provider's options as plain data: the plain-call bundle) where it can
  // tell, so the schema is neither built nor run; zod for the rest, and for every error message.
  // Without zod in the bundle, zod's stand-in throws NEEDS_ZOD and the full CLI takes the call.
  const table = ctx.spec.plainOptions?.[provider.name];
  const options = (table && checkPlainOptions(table, merged)) ?? validateOptions(provider, label, merged, ctx.spec.name);
  const result = await ctx.engine.getToken({
    invocationKey: invocationKey(ctx.spec.name, target, split.rest, ctx.io.cwd, purpose),
    cwd: ctx.io.cwd,
    ...(purpose ? { purpose } : {}),
    provider,
    label,
    options,
    settings,
    depth,
    ...(target.profileName ? { profileName: target.profileName } : {}),
  });
  if (result.source === 'cache' && result.entry) {
    const left = endOfLife(result.entry) - ctx.now();
    ctx.log.debug(`${label}: served the cached token (fetched ${formatDuration(ctx.now() - result.entry.fetchedAt)} ago, good for ${formatDuration(left)} more)`);
  }
  return { ...result, label };
}

/** `profile:NAME` references and `otel-headers`: a profile's token through the engine. */
export function tokenForProfile(ctx: RunContext, name: string, depth = 0, purpose?: Purpose) {
  const split: SplitArgs = { engine: { ...ctx.split.engine, profile: name }, rest: [], wantsHelp: false };
  return fetchToken(ctx, split, {}, depth, undefined, purpose);
}

/** The provider this run targets (from argv or the profile), loaded; other providers stay unloaded. */
async function selectedProvider(ctx: RunContext): Promise<{ name: string; provider?: Provider }> {
  const name = ctx.split.command;
  if (!name || BUILTIN_COMMANDS.includes(name)) return { name: '' };
  return { name, provider: await ctx.registry.load(name) };
}

const BUILTIN_COMMANDS = ['cache', 'doctor', 'init', 'otel-headers', 'help'];

/** What a provider's extra command runs with: this run's output, environment and a provider context. */
export function commandIO(ctx: RunContext, provider: Provider, stdout: (text: string) => void = ctx.io.stdout): CommandIO {
  const { io } = ctx;
  const settings = resolveEngineSettings(ctx.split.engine, {}, ctx.config?.defaults ?? {}, io.env);
  const signal = AbortSignal.timeout(Math.max(settings.timeoutMs, 600_000));
  const context = ctx.engine.context({ invocationKey: '', cwd: io.cwd, provider, label: provider.name, options: {}, settings }, signal, false);
  return { stdout, stderr: io.stderr, readSecret: (prompt) => readSecret(io, prompt), isInteractive: Boolean(io.stdin.isTTY), env: io.env, signal, context };
}
