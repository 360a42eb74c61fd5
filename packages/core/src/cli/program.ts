// The commander program: help, parse errors, and every command besides a plain token call (which
// run.ts answers without loading commander). Loaded only when the plain-call parser declines.
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExitCode, ConfigError, UsageError } from '../errors.js';
import { engineFlagsHelp, ENGINE_FLAGS } from '../invocation.js';
import type { Provider, ProviderCommand } from '../provider.js';
import { collectFieldValues, describeFields, describeOptionsError, kebab, type FieldSpec } from './flags.js';
import type { HelperIO } from './io.js';
import { commandIO, printToken, tokenForProfile, type RunContext } from './run.js';
import { cacheClear, cacheStatus } from './cache-commands.js';
import { runDoctor } from './doctor.js';
import { runInit } from './init.js';
import { runGatewayInit } from './init-gateway.js';

const ENGINE_HELP = `\nEngine options (any command that prints a token):\n${engineFlagsHelp()}`;

export interface RunHooks {
  setLabel(label: string): void;
  setExit(code: number): void;
}

export function buildProgram(ctx: RunContext, selected: { name: string; provider?: Provider }, hooks: RunHooks): Command {
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
    await printToken(ctx, {}, undefined, setLabel);
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

function configureProviderCommand(ctx: RunContext, cmd: Command, provider: Provider, setLabel: (l: string) => void): void {
  const { spec, io } = ctx;
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
    await printToken(ctx, flagValues, provider, setLabel);
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

