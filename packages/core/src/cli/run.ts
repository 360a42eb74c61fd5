// The full CLI (commander): runs when the warm path cannot answer. Owns argv, stdout, stderr and exit codes.
import { Command, CommanderError } from 'commander';
import { ClaudeKeyError, ExitCode, InternalError, UsageError, ConfigError, isClaudeKeyError } from '../errors.js';
import { redact } from '../redact.js';
import { cacheDir } from '../paths.js';
import { FileStore } from '../cache/file-store.js';
import { findClaudeCodeCaller } from '../caller.js';
import { Engine, type TokenResult } from '../engine.js';
import { loadConfigFile, configBaseDir } from '../config.js';
import {
  configPath,
  engineFlagsHelp,
  ENGINE_FLAGS,
  resolveEngineSettings,
  resolveTarget,
  splitArgs,
  invocationKey,
  type ConfigFile,
  type SplitArgs,
} from '../invocation.js';
import { ProviderRegistry } from '../registry.js';
import type { CommandIO, Provider, ProviderCommand, ProviderLogger, Purpose, TokenStore } from '../provider.js';
import { endOfLife } from '../cache/entry.js';
import { formatDuration } from '../duration.js';
import type { SecretScheme } from '../secret-ref.js';
import { addFieldOptions, collectFieldValues, describeFields, describeOptionsError } from './flags.js';
import { readSecret, type HelperIO } from './io.js';
import type { HelperSpec } from '../helper.js';
import { cacheClear, cacheStatus } from './cache-commands.js';
import { runDoctor } from './doctor.js';
import { runInit } from './init.js';
import { runGatewayInit } from './init-gateway.js';

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

const ENGINE_HELP = `\nEngine options (any command that prints a token):\n${engineFlagsHelp()}`;

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(spec: HelperSpec, argv: readonly string[], io: HelperIO): Promise<number> {
  let label = '';
  try {
    const split = splitArgs(argv);
    const ctx = await createRunContext(spec, split, io);
    const selected = await selectedProvider(ctx);
    let exit = 0;
    const program = buildProgram(ctx, selected, {
      setLabel: (l) => {
        label = l;
      },
      setExit: (code) => {
        exit = code;
      },
    });
    // Engine flags were taken out by splitArgs (they may stand anywhere); commander sees the rest,
    // with options positional so `jwt keygen --alg` reaches keygen, not jwt.
    await program.parseAsync(split.command ? [split.command, ...split.rest] : split.rest, { from: 'user' });
    return exit;
  } catch (err) {
    return report(err, spec.name, label, io);
  }
}

function report(err: unknown, helperName: string, label: string, io: HelperIO): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
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

export async function createRunContext(spec: HelperSpec, split: SplitArgs, io: HelperIO): Promise<RunContext> {
  const store = new FileStore(cacheDir(spec.name, io.env));
  const located = configPath(spec.name, split.engine.config, io.env);
  const config = located ? await loadConfigFile(located.path, store) : undefined;
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
  const options = validateOptions(provider, label, { ...target.profileOptions, ...flagOptions }, ctx.spec.name);
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

interface RunHooks {
  setLabel(label: string): void;
  setExit(code: number): void;
}

function buildProgram(ctx: RunContext, selected: { name: string; provider?: Provider }, hooks: RunHooks): Command {
  const { setLabel } = hooks;
  const { spec, io, split } = ctx;
  const program = new Command(spec.name)
    .description(spec.description ?? `Prints one credential for Claude Code's apiKeyHelper.`)
    .version(spec.version ?? '0.0.0', '-V, --version')
    .exitOverride()
    .configureOutput(commanderOutput(spec.name, io, spec.name))
    .enablePositionalOptions();
  for (const f of ENGINE_FLAGS) program.option('value' in f ? `${f.flag} <${f.value}>` : f.flag, f.help);
  program.addHelpText(
    'after',
    `
Examples:
  ${spec.name} exec --max-age 300 -- vault kv get -field=api_key secret/litellm/claude-code
  ${spec.name} --profile work
  ${spec.name} doctor --profile work
Claude Code settings (~/.claude/settings.json):
  { "apiKeyHelper": "${spec.name} --profile work", "env": { "CLAUDE_CODE_API_KEY_HELPER_TTL_MS": "900000" } }
Exit codes: 0 ok, 1 internal, 2 usage/config, 3 auth refused, 4 unreachable, 5 deadline, 6 not found.`,
  );

  // Profile-only invocation: `claude-key --profile work`.
  program.action(async () => {
    if (split.engine.profile === undefined) {
      // Never on stdout: run as apiKeyHelper by mistake, help text would become the "token".
      program.outputHelp({ error: true });
      hooks.setExit(ExitCode.usage);
      return;
    }
    const target = resolveTarget(split, ctx.config);
    setLabel(`profile ${target.profileName}`);
    const result = await fetchToken(ctx, split, {});
    io.stdout(`${result.token}\n`);
  });

  for (const entry of ctx.registry.list()) {
    const cmd = program.command(entry.name).summary(entry.summary).description(entry.summary);
    if (entry.name !== selected.name || !selected.provider) {
      // Not the one we run: keep start-up cheap, accept anything (it is never executed).
      cmd.allowUnknownOption().allowExcessArguments().helpOption(false);
      continue;
    }
    configureProviderCommand(ctx, cmd, selected.provider, setLabel);
  }
  if (selected.provider && !ctx.registry.has(selected.name)) {
    // A plugin package given on the command line.
    configureProviderCommand(ctx, program.command(selected.name).description(selected.provider.summary), selected.provider, setLabel);
  }

  const cache = program.command('cache').description('inspect or clear cached tokens (never shows a token)');
  cache
    .command('status')
    .description('list cached tokens: provider, profile, age, time left')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nEngine options:\n${engineFlagsHelp(['--profile', '--config'])}\n\nExample:\n  ${spec.name} cache status --profile work`)
    .action((opts: { json?: boolean }) => cacheStatus(ctx, opts));
  cache
    .command('clear')
    .description('delete cached tokens (all, or those of --profile)')
    .addHelpText('after', `\nEngine options:\n${engineFlagsHelp(['--profile', '--config'])}\n\nExample:\n  ${spec.name} cache clear --profile work`)
    .action(() => cacheClear(ctx));

  program
    .command('doctor')
    .description('check config, provider reachability and TTL alignment; print the settings to use')
    .argument('[invocation...]', 'a provider invocation to check, e.g. vault --path secret/x --field key')
    .allowUnknownOption()
    .addHelpText('after', `${ENGINE_HELP}\n\nExamples:\n  ${spec.name} doctor --profile work\n  ${spec.name} doctor exec -- ./print-token.sh`)
    .action(async (invocation: string[]) => {
      hooks.setExit(await runDoctor(ctx, invocation));
    });

  program
    .command('init')
    .description("write apiKeyHelper (and env) into Claude Code's settings.json, keeping everything else, with a backup")
    .option('--project [dir]', "write the project's .claude/settings.json instead of ~/.claude/settings.json")
    .option('--helper <command>', 'the apiKeyHelper command (default: built from --profile)')
    .option('--base-url <url>', 'also set ANTHROPIC_BASE_URL (your gateway)')
    .option('--ttl-ms <ms>', 'also set CLAUDE_CODE_API_KEY_HELPER_TTL_MS (default 900000 when prompting)')
    .option('--yes', 'do not prompt; use the flags as given')
    .option('--gateway <url>', 'onboard to a claude-key-gateway: create a key, enroll it, write the settings, check a request')
    .option('--team <team>', 'with --gateway: the team to ask for and use')
    .option('--user <user>', 'with --gateway: your user id there (default: the OS user, or the login\'s user)')
    .option('--login <ref>', 'with --gateway: a login token proving who you are, e.g. profile:sso (a claude-key oidc profile)')
    .addHelpText(
      'after',
      `\nEngine options:\n${engineFlagsHelp(['--profile', '--config'])}\n\nExamples:\n  ${spec.name} init --profile work --base-url https://llm-gateway.example.com --ttl-ms 900000 --yes\n  ${spec.name} init --gateway https://llm-gateway.example.com --login profile:sso --team platform --yes`,
    )
    .action(async (opts) => {
      if (opts.gateway) await runGatewayInit(ctx, opts);
      else await runInit(ctx, opts);
    });

  program
    .command('otel-headers')
    .description("print {\"Authorization\":\"Bearer …\"} from a profile, for Claude Code's otelHeadersHelper")
    .option('--header <name>', 'header name', 'Authorization')
    .option('--scheme <scheme>', 'prefix before the token; "" for none', 'Bearer')
    .addHelpText('after', `${ENGINE_HELP}\n\nExample (settings.json):\n  "otelHeadersHelper": "${spec.name} otel-headers --profile telemetry"`)
    .action(async (opts: { header: string; scheme: string }) => {
      if (split.engine.profile === undefined) throw new UsageError('otel-headers needs --profile NAME');
      setLabel('otel-headers');
      const result = await tokenForProfile(ctx, split.engine.profile, 0, 'otelHeadersHelper');
      const value = opts.scheme ? `${opts.scheme} ${result.token}` : result.token;
      io.stdout(`${JSON.stringify({ [opts.header]: value })}\n`);
    });

  return program;
}

/**
 * Commander's output: help to stdout, and each parse error (unknown flag, missing value, a
 * "Did you mean" suggestion) as one stderr line that names the help to read.
 */
function commanderOutput(helperName: string, io: HelperIO, commandPath: string) {
  return {
    writeOut: (s: string) => io.stdout(s),
    writeErr: (s: string) => io.stderr(s.trimEnd()),
    outputError: (s: string, write: (s: string) => void) =>
      write(`${helperName}: ${s.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim().replace(/\.$/, '')}; see ${commandPath} --help`),
  };
}

/** The provider this run targets (from argv or the profile), loaded; other providers stay unloaded. */
async function selectedProvider(ctx: RunContext): Promise<{ name: string; provider?: Provider }> {
  const name = ctx.split.command;
  if (!name || BUILTIN_COMMANDS.includes(name)) return { name: '' };
  return { name, provider: await ctx.registry.load(name) };
}

const BUILTIN_COMMANDS = ['cache', 'doctor', 'init', 'otel-headers', 'help'];

function configureProviderCommand(ctx: RunContext, cmd: Command, provider: Provider, setLabel: (l: string) => void): void {
  const { spec, io, split } = ctx;
  const fields = describeFields(provider.options);
  cmd.description(provider.summary).enablePositionalOptions().configureOutput(commanderOutput(spec.name, io, `${spec.name} ${cmd.name()}`));
  addFieldOptions(cmd, fields, provider.positional);
  const examples = provider.examples ?? [];
  cmd.addHelpText(
    'after',
    [
      examples.length ? `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}` : '',
      examples[0] ? `\nClaude Code settings:\n  { "apiKeyHelper": "${examples[0]}" }` : '',
      provider.env?.length ? `\nEnvironment: ${provider.env.join(', ')}` : '',
      ENGINE_HELP,
    ].join('\n'),
  );
  for (const [name, command] of Object.entries(provider.commands ?? {})) {
    configureExtraCommand(ctx, cmd.command(name), provider, name, command, setLabel);
  }
  cmd.action(async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const positionalValue = provider.positional ? args[0] : undefined;
    const flagValues = collectFieldValues(fields, command.opts(), positionalValue, provider.positional);
    setLabel(split.engine.profile ? `profile ${split.engine.profile} (${provider.name})` : provider.name);
    const result = await fetchToken(ctx, split, flagValues, 0, provider);
    io.stdout(`${result.token}\n`);
  });
}

function configureExtraCommand(
  ctx: RunContext,
  cmd: Command,
  provider: Provider,
  name: string,
  command: ProviderCommand,
  setLabel: (l: string) => void,
): void {
  const { spec, io } = ctx;
  const fields = describeFields(command.options);
  cmd.description(command.summary).configureOutput(commanderOutput(spec.name, io, `${spec.name} ${provider.name} ${name}`));
  addFieldOptions(cmd, fields, command.positional);
  if (command.examples?.length) cmd.addHelpText('after', `\nExamples:\n${command.examples.map((e) => `  ${e}`).join('\n')}`);
  cmd.action(async (...args: unknown[]) => {
    const self = args[args.length - 1] as Command;
    setLabel(`${provider.name} ${name}`);
    const values = collectFieldValues(fields, self.opts(), command.positional ? args[0] : undefined, command.positional);
    const parsed = command.options.safeParse(values);
    if (!parsed.success) {
      throw new ConfigError(`${provider.name} ${name}: ${describeOptionsError(parsed.error, command.positional)}`, { hint: `see ${spec.name} ${provider.name} ${name} --help` });
    }
    await command.run(parsed.data, commandIO(ctx, provider));
  });
}

/** What a provider's extra command runs with: this run's output, environment and a provider context. */
export function commandIO(ctx: RunContext, provider: Provider, stdout: (text: string) => void = ctx.io.stdout): CommandIO {
  const { io } = ctx;
  const settings = resolveEngineSettings(ctx.split.engine, {}, ctx.config?.defaults ?? {}, io.env);
  const signal = AbortSignal.timeout(Math.max(settings.timeoutMs, 600_000));
  const context = ctx.engine.context({ invocationKey: '', cwd: io.cwd, provider, label: provider.name, options: {}, settings }, signal, false);
  return { stdout, stderr: io.stderr, readSecret: (prompt) => readSecret(io, prompt), isInteractive: Boolean(io.stdin.isTTY), env: io.env, signal, context };
}
