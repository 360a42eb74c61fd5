// The claude-key-gateway command line: serve, usage, audit verify/export, keys, revoke, mock.
import { Command, Option } from 'commander';
import { userInfo } from 'node:os';
import { isClaudeKeyError, NotFoundError, UnreachableError, UsageError } from '@claude-key/core';
import { decideKey, listKeys, revoke, REVOCATION_KINDS, subjectKey, type EnrolledKey, type RevocationKind, type TrustDb } from './auth/trust.js';
import { loadVerifyKey, verifyCheckpoints } from './audit/checkpoints.js';
import { exportAudit, verifyAuditEntries } from './audit/export.js';
import { loadConfig } from './config.js';
import { GatewayError } from './errors.js';
import { createGateway, parseSince } from './gateway.js';
import { formatReport } from './report.js';
import { Store, type ReportKey } from './store/store.js';
import { startMockUpstream } from './upstreams/mock.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIO: CliIO = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };

/** Opens the configured store for one command and always closes it. */
async function withStore<T>(configFile: string | undefined, env: NodeJS.ProcessEnv, fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig(configFile, env);
  const store = await Store.open({ url: config.store.url, path: config.store.path, schema: env.CLAUDE_KEY_GATEWAY_DB_SCHEMA, engine: config.store.engine }).catch((err: Error) => {
    throw new UnreachableError(`cannot open the store: ${err.message.split('\n')[0]}`, { hint: 'check store.url / DATABASE_URL or store.path' });
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The store as the trust registry's changes need it; changes notify running gateways (PostgreSQL). */
function withTrust<T>(configFile: string | undefined, env: NodeJS.ProcessEnv, fn: (db: TrustDb) => Promise<T>): Promise<T> {
  return withStore(configFile, env, (store) =>
    fn({
      kind: store.kind,
      rows: async (sql, params) => (await store.db.query(sql, params)).rows as never,
      applyTrustChange: (statements, audit, notify) => store.applyTrustChange(statements, audit, notify),
    }).catch((err) => {
      // The registry refuses in the gateway's HTTP terms; on the command line that is a usage or not-found error.
      if (err instanceof GatewayError) throw err.status === 404 ? new NotFoundError(err.message) : new UsageError(err.message);
      throw err;
    }),
  );
}

const cliActor = () => ({ by: `cli:${userInfo().username}`, now: Date.now() });

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port: "${value}" is not a port number`);
  return n;
}

export function buildCli(io: CliIO = defaultIO): Command {
  const program = new Command('claude-key-gateway')
    .description('A reference LLM gateway for Claude Code: verifies claude-key tokens, forwards the Anthropic Messages API, records usage and audit.')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  const configOption = () => new Option('-c, --config <file>', 'YAML config file (env overrides: DATABASE_URL, REDIS_URL, PORT, HOST)');

  program
    .command('serve')
    .description('Run the gateway until SIGTERM/SIGINT, then flush usage and audit records and exit.')
    .addOption(configOption())
    .option('-p, --port <n>', 'listen port (overrides the config)', port)
    .addHelpText('after', '\nExamples:\n  claude-key-gateway serve --config gateway.yaml\n  DATABASE_URL=postgres://gw@db/gw REDIS_URL=redis://cache:6379 claude-key-gateway serve -c gateway.yaml --port 8080\n')
    .action(async (opts: { config?: string; port?: number }) => {
      // The listeners go in before start-up (a SIGTERM right after "listening" must not kill the
      // process) and stay for the whole shutdown: a second SIGTERM (an impatient orchestrator, a
      // double Ctrl-C) must not fall back to the default exit and drop the records being written.
      let stopping = false;
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) return void io.stderr(`claude-key-gateway: ${signal} again: already shutting down, writing pending records\n`);
          stopping = true;
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      const config = loadConfig(opts.config, io.env);
      const gateway = await createGateway(config, { env: io.env, dbSchema: io.env.CLAUDE_KEY_GATEWAY_DB_SCHEMA });
      await gateway.listen(opts.port ?? config.listen.port, config.listen.host);
      await stopped;
      await gateway.close();
    });

  program
    .command('usage')
    .description('Print a usage and cost report from the store.')
    .addOption(configOption())
    .addOption(new Option('--by <key>', 'group by').choices(['user', 'team', 'model']).default('user'))
    .option('--since <when>', 'ISO date or a duration back from now (24h, 7d); default: this month')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExamples:\n  claude-key-gateway usage --by team --since 7d -c gateway.yaml\n  claude-key-gateway usage --by model --since 2026-11-01 --json\n')
    .action(async (opts: { config?: string; by: ReportKey; since?: string; json?: boolean }) => {
      const since = sinceOption(opts.since);
      const rows = await withStore(opts.config, io.env, (store) => store.report(opts.by, since));
      io.stdout(opts.json ? `${JSON.stringify({ by: opts.by, since: since.toISOString(), rows })}\n` : formatReport(opts.by, since, rows));
    });

  const audit = program.command('audit').description('Work with the hash-chained audit log.');
  audit
    .command('verify')
    .description('Check that no audit record was edited, removed or reordered, and that the log matches its signed checkpoints (exit 3 if not).')
    .addOption(configOption())
    .option('--checkpoints <dir>', 'signed checkpoint directory (default: audit.checkpoints.dir)')
    .option('--public-key <file>', 'Ed25519 public key PEM (default: audit.checkpoints.publicKeyFile, else derived from keyFile)')
    .addHelpText('after', '\nExamples:\n  claude-key-gateway audit verify -c gateway.yaml\n  claude-key-gateway audit verify -c gateway.yaml --checkpoints /mnt/worm/ckg --public-key audit.pub\n')
    .action(async (opts: { config?: string; checkpoints?: string; publicKey?: string }) => {
      const config = loadConfig(opts.config, io.env);
      const cp = config.audit.checkpoints;
      const dir = opts.checkpoints ?? cp?.dir;
      const keyFile = opts.publicKey ?? cp?.publicKeyFile ?? cp?.keyFile;
      if (dir && !keyFile) throw new UsageError('--checkpoints needs --public-key (or audit.checkpoints in the config)');
      const { result, entries } = await withStore(opts.config, io.env, verifyAuditEntries);
      const checked = dir ? verifyCheckpoints(dir, loadVerifyKey(keyFile!), entries) : undefined;
      const problems = [...(result.ok ? [] : [`${result.problem} (${result.records} records verified before it)`]), ...(checked?.problems ?? [])];
      if (!problems.length) {
        const against = checked ? `; matches ${checked.checkpoints} signed checkpoints${checked.newest ? ` (newest: record ${checked.newest.seq}, ${checked.newest.time})` : ''}` : '';
        return io.stdout(`audit log intact: ${result.records} records${against}\n`);
      }
      for (const p of problems) io.stderr(`claude-key-gateway: audit log tampered: ${p}\n`);
      process.exitCode = 3;
    });
  audit
    .command('export')
    .description('Write the audit log as JSON Lines to stdout.')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  claude-key-gateway audit export -c gateway.yaml > audit.jsonl\n')
    .action(async (opts: { config?: string }) => {
      await withStore(opts.config, io.env, (store) => exportAudit(store, io.stdout));
    });

  const keys = program.command('keys').description('Enrolled per-user keys (`claude-key jwt enroll`): list, approve, revoke.');
  keys
    .command('list')
    .description('List enrolled keys (default: every state).')
    .addOption(configOption())
    .addOption(new Option('--status <status>', 'only keys in this state').choices(['pending', 'active', 'revoked']))
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  claude-key-gateway keys list --status pending -c gateway.yaml\n')
    .action(async (opts: { config?: string; status?: EnrolledKey['status']; json?: boolean }) => {
      const list = await withTrust(opts.config, io.env, (db) => listKeys(db, opts.status));
      if (opts.json) return io.stdout(`${JSON.stringify({ keys: list })}\n`);
      for (const k of list) io.stdout(`${k.kid}  ${k.status.padEnd(7)}  ${k.user}  teams=${k.teams.join(',') || '-'}  expires=${k.expiresAt}\n`);
      if (!list.length) io.stdout('no enrolled keys\n');
    });
  keys
    .command('approve <kid>')
    .description('Approve a pending key: from now on a token it signs is this user, in these teams only.')
    .addOption(configOption())
    .option('--user <user>', 'bind the key to this user (default: the one requested)')
    .option('--teams <list>', 'comma-separated teams the user may use (default: those requested)')
    .addHelpText('after', '\nExample:\n  claude-key-gateway keys approve 3q2-Xh... --teams platform,research -c gateway.yaml\n')
    .action(async (kid: string, opts: { config?: string; user?: string; teams?: string }) => {
      const config = loadConfig(opts.config, io.env);
      const key = await withTrust(opts.config, io.env, (db) =>
        decideKey(db, cliActor(), kid, 'approve', { lifetimeDays: config.auth.enrollment.keyLifetimeDays, user: opts.user, teams: opts.teams?.split(',').filter(Boolean) }),
      );
      io.stdout(`approved ${key.kid} for ${key.user} (teams ${key.teams.join(',') || '-'}) until ${key.expiresAt}\n`);
    });
  keys
    .command('revoke <kid>')
    .description('Revoke an enrolled key: every replica refuses its tokens within a second.')
    .addOption(configOption())
    .option('--reason <text>', 'why (kept in the audit log)')
    .action(async (kid: string, opts: { config?: string; reason?: string }) => {
      const config = loadConfig(opts.config, io.env);
      await withTrust(opts.config, io.env, (db) => decideKey(db, cliActor(), kid, 'revoke', { lifetimeDays: config.auth.enrollment.keyLifetimeDays, reason: opts.reason }));
      io.stdout(`revoked key ${kid}\n`);
    });

  program
    .command('revoke <kind> <value>')
    .description('Revoke a token id (jti), an identity (subject: "<source> <subject>"), an enrolled key or an API key id.')
    .addOption(configOption())
    .option('--source <issuer>', 'with kind subject: the trust source (issuer, or api-key) the subject belongs to')
    .option('--reason <text>', 'why (kept in the audit log)')
    .addHelpText(
      'after',
      '\nExamples:\n  claude-key-gateway revoke jti 4f7c1e0a -c gateway.yaml\n  claude-key-gateway revoke subject alice@example.com --source https://login.example.com/realms/eng\n  claude-key-gateway revoke api-key ci-old\n',
    )
    .action(async (kind: string, value: string, opts: { config?: string; source?: string; reason?: string }) => {
      if (!REVOCATION_KINDS.includes(kind as RevocationKind)) throw new UsageError(`kind must be one of ${REVOCATION_KINDS.join(', ')}`);
      if (kind === 'subject' && !opts.source) throw new UsageError('revoke subject needs --source: an identity is a source and a subject');
      const stored = kind === 'subject' ? subjectKey(opts.source!, value) : value;
      await withTrust(opts.config, io.env, (db) => revoke(db, cliActor(), kind as RevocationKind, stored, opts.reason));
      io.stdout(`revoked ${kind} ${stored}\n`);
    });

  program
    .command('mock')
    .description('Run the deterministic mock Messages API on its own (for benchmarks and demos).')
    .option('-p, --port <n>', 'listen port', port, 8090)
    .option('--api-key <key>', 'require this x-api-key (a test value, not a secret)')
    .addHelpText('after', '\nExample:\n  claude-key-gateway mock --port 8090\n')
    .action(async (opts: { port: number; apiKey?: string }) => {
      const mock = await startMockUpstream(opts.apiKey ? { apiKey: opts.apiKey } : {}, opts.port);
      io.stdout(`mock Messages API on ${mock.url}\n`);
      await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
      await mock.close();
    });

  return program;
}

function sinceOption(value: string | undefined): Date {
  try {
    return parseSince(value, Date.now());
  } catch (err) {
    throw new UsageError(`--since: ${(err as GatewayError).message}`);
  }
}

/** Runs the CLI; every failure is one line on stderr and a distinct exit code, never a stack trace. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  try {
    await buildCli(io).parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 2;
    if (isClaudeKeyError(err)) {
      io.stderr(`claude-key-gateway: ${err.line}\n`);
      return err.exitCode;
    }
    io.stderr(`claude-key-gateway: ${(err as Error).message?.split('\n')[0] ?? 'unexpected error'}\n`);
    return 1;
  }
}
