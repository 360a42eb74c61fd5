// `doctor`: checks config, provider reachability and TTL alignment, then prints the settings to paste.
import { accessSync, constants, statSync } from 'node:fs';
import { formatDuration } from '../duration.js';
import { isClaudeKeyError, ExitCode } from '../errors.js';
import { resolveEngineSettings, resolveTarget, splitArgs, type SplitArgs } from '../invocation.js';
import { fetchToken, type RunContext } from './run.js';
import { shellQuote } from './shell-quote.js';
import { referenceScheme } from '../secret-ref.js';

export async function runDoctor(ctx: RunContext, _invocation: string[]): Promise<number> {
  const { io, spec } = ctx;
  const out = (mark: 'ok' | 'warn' | 'FAIL' | 'info', text: string) => io.stdout(`${mark.padEnd(4)} ${text}\n`);
  let worst: number = ExitCode.ok;
  const inner = splitArgs(ctx.split.rest);
  const split: SplitArgs = { ...inner, engine: { ...ctx.split.engine, ...inner.engine } };

  out(ctx.config ? 'ok' : 'info', ctx.config ? `config ${ctx.config.path} is valid (${Object.keys(ctx.config.profiles).length} profiles)` : 'no config file (flags only)');
  for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN']) {
    if (io.env[name]) out('warn', `${name} is set: Claude Code prefers it over apiKeyHelper; unset it`);
  }
  try {
    const dirMode = statSync(ctx.store.dir ?? '').mode & 0o777;
    accessSync(ctx.store.dir ?? '', constants.W_OK);
    out(dirMode === 0o700 ? 'ok' : 'warn', `cache ${ctx.store.dir} (mode ${dirMode.toString(8)}${dirMode === 0o700 ? '' : ', want 700'})`);
  } catch {
    out('info', `cache ${ctx.store.dir} does not exist yet (created on first use)`);
  }

  if (split.engine.profile === undefined && !split.command) {
    out('info', `name what to check: ${spec.name} doctor --profile NAME, or ${spec.name} doctor <provider> [options]`);
    return worst;
  }
  const helperLine =
    split.engine.profile !== undefined && !split.command
      ? `${spec.name} --profile ${shellQuote([split.engine.profile])}`
      : `${spec.name} ${shellQuote([...(split.engine.profile ? ['--profile', split.engine.profile] : []), split.command ?? '', ...split.rest].filter(Boolean))}`;
  try {
    const target = resolveTarget(split, ctx.config);
    const settings = resolveEngineSettings(split.engine, target.profileEngine, ctx.config?.defaults ?? {}, io.env);
    const provider = await ctx.registry.load(target.provider);
    out('ok', `provider ${provider.name} loads`);
    const started = Date.now();
    const flagValues = await flagValuesFor(split, provider);
    const result = await fetchToken({ ...ctx }, { ...split, engine: { ...split.engine, noCache: true } }, flagValues, 0, provider);
    out('ok', `${result.label} answered in ${formatDuration(Date.now() - started)} (token of ${result.token.length} characters, not shown)`);
    const needed = settings.ttlMs + settings.graceMs;
    if (result.expiresAt) {
      const lifetime = result.expiresAt - ctx.now();
      if (settings.ttlMs === 0) {
        out('warn', `tokens expire (this one in ${formatDuration(lifetime)}) but CLAUDE_CODE_API_KEY_HELPER_TTL_MS is unset: Claude Code keeps the first token for the whole session; set it below ${formatDuration(Math.max(lifetime - settings.graceMs, 0))}`);
      } else if (lifetime < needed) {
        out('warn', `token lifetime ${formatDuration(lifetime)} is shorter than TTL ${formatDuration(settings.ttlMs)} + grace ${formatDuration(settings.graceMs)}: every call will fetch anew and Claude Code may use an expired token; lower the TTL or lengthen the token`);
      } else {
        out('ok', `token lifetime ${formatDuration(lifetime)} covers TTL ${formatDuration(settings.ttlMs)} + grace ${formatDuration(settings.graceMs)}`);
      }
    } else {
      out('info', `the provider gives no expiry: tokens are reused for max-age ${formatDuration(settings.maxAgeMs)}`);
      if (settings.ttlMs === 0) out('warn', 'CLAUDE_CODE_API_KEY_HELPER_TTL_MS is unset: Claude Code will not pick up a rotated token until restarted');
    }
    for (const key of provider.secretOptions ?? []) {
      const value = { ...target.profileOptions, ...flagValues }[key];
      const schemes = ['env', 'file', 'profile', ...Object.keys(ctx.spec.secretSchemes ?? {})];
      const scheme = typeof value === 'string' ? referenceScheme(value) : undefined;
      if (typeof value === 'string' && (scheme === undefined || !schemes.includes(scheme))) {
        out('warn', `option ${key} holds a literal secret; use a reference: ${schemes.map((s) => `${s}:`).join(', ')}`);
      }
    }
    const ttl = settings.ttlMs || 900_000;
    io.stdout(`\nClaude Code settings (~/.claude/settings.json):\n${JSON.stringify({ apiKeyHelper: helperLine, env: { CLAUDE_CODE_API_KEY_HELPER_TTL_MS: String(ttl) } }, null, 2)}\n`);
  } catch (err) {
    const line = isClaudeKeyError(err) ? err.line : String(err);
    out('FAIL', line);
    worst = isClaudeKeyError(err) ? err.exitCode : ExitCode.internal;
  }
  return worst;
}

/** Flag values for the provider from the doctor's inner invocation (parsed like the real command). */
async function flagValuesFor(split: SplitArgs, provider: import('../provider.js').Provider): Promise<Record<string, unknown>> {
  if (!split.command) return {};
  const { Command } = await import('commander');
  const [{ addFieldOptions }, { collectFieldValues, describeFields }] = await Promise.all([import('./program.js'), import('./flags.js')]);
  const fields = describeFields(provider.options);
  const cmd = new Command(provider.name).exitOverride().allowUnknownOption();
  addFieldOptions(cmd, fields, provider.positional);
  let values: Record<string, unknown> = {};
  cmd.action((...args: unknown[]) => {
    const self = args[args.length - 1] as InstanceType<typeof Command>;
    values = collectFieldValues(fields, self.opts(), provider.positional ? args[0] : undefined, provider.positional);
  });
  await cmd.parseAsync(split.rest, { from: 'user' });
  return values;
}
