// The CLI contract: one token on stdout, redacted one-line errors, distinct exit codes, profiles, warm path, commands.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHelper, type HelperSpec } from '../helper.js';
import type { HelperIO } from './io.js';
import { ExitCode } from '../errors.js';
import { defineProvider } from '../provider.js';
import { z } from 'zod';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function sandbox() {
  const root = mkdtempSync(join(tmpdir(), 'ck-cli-'));
  roots.push(root);
  const env: Record<string, string | undefined> = {
    HOME: join(root, 'home'),
    PATH: process.env.PATH,
    CLAUDE_KEY_CACHE_DIR: join(root, 'cache'),
    CLAUDE_KEY_CONFIG_DIR: join(root, 'config'),
  };
  mkdirSync(env.HOME!, { recursive: true });
  const counter = join(root, 'calls');
  /** An exec command that records each call and prints `token`. */
  const mint = (token: string) => ['sh', '-c', `echo x >> ${counter}; echo ${token}`];
  const calls = () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0);
  return { root, env, mint, calls };
}

async function run(argv: string[], env: Record<string, string | undefined>, spec: Partial<HelperSpec> = {}, cwd = process.cwd()): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: HelperIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (l) => {
      stderr += `${l}\n`;
    },
    stdin: Readable.from([]) as unknown as HelperIO['stdin'],
    env,
    cwd,
  };
  const helper = createHelper({ name: 'ck-test', providers: [], caller: () => undefined, ...spec });
  const code = await helper.run(argv, io);
  return { code, stdout, stderr };
}

test('exec --max-age 300 -- CMD ARGS prints exactly the token and one newline, then serves it from the cache', async () => {
  const s = sandbox();
  const first = await run(['exec', '--max-age', '300', '--', ...s.mint('tok-AAAAAAAA')], s.env);
  assert.deepEqual(first, { code: 0, stdout: 'tok-AAAAAAAA\n', stderr: '' });
  const second = await run(['exec', '--max-age', '300', '--', ...s.mint('tok-AAAAAAAA')], s.env);
  assert.equal(second.stdout, 'tok-AAAAAAAA\n');
  assert.equal(s.calls(), 1);
});

test('exec accepts JSON {token, expires_at} and caches until that expiry', async () => {
  const s = sandbox();
  const json = JSON.stringify({ token: 'json-token-123456', expires_at: '2099-01-01T00:00:00Z' });
  const cmd = ['sh', '-c', `echo x >> ${join(s.root, 'calls')}; echo '${json}'`];
  assert.equal((await run(['exec', '--', ...cmd], s.env)).stdout, 'json-token-123456\n');
  await run(['exec', '--', ...cmd], s.env);
  assert.equal(s.calls(), 1);
  const status = await run(['cache', 'status', '--json'], s.env);
  const rows = JSON.parse(status.stdout) as { expiresAt: string; provider: string }[];
  assert.equal(rows[0]!.expiresAt, '2099-01-01T00:00:00.000Z');
  assert.ok(!status.stdout.includes('json-token-123456'), 'cache status never shows the token');
});

test('profiles come from the YAML config; flags override profile values; the warm path serves YAML profiles too', async () => {
  const s = sandbox();
  const dirA = join(s.root, 'a');
  const dirB = join(s.root, 'b');
  mkdirSync(dirA);
  mkdirSync(dirB);
  mkdirSync(s.env.CLAUDE_KEY_CONFIG_DIR!, { recursive: true });
  writeFileSync(
    join(s.env.CLAUDE_KEY_CONFIG_DIR!, 'config.yaml'),
    `defaults:\n  timeout: 5s\nprofiles:\n  work:\n    provider: exec\n    command: [sh, -c, "echo x >> ${join(s.root, 'calls')}; pwd"]\n    cwd: ${dirA}\n    max-age: 10m\n`,
  );
  assert.equal((await run(['--profile', 'work'], s.env)).stdout, `${dirA}\n`);
  assert.equal((await run(['--profile', 'work'], s.env)).stdout, `${dirA}\n`);
  assert.equal(s.calls(), 1);
  const overridden = await run(['--profile', 'work', 'exec', '--cwd', dirB], s.env);
  assert.equal(overridden.stdout, `${dirB}\n`);
});

test('config errors name the file and the bad field, with exit code 2', async () => {
  const s = sandbox();
  const config = join(s.root, 'bad.yaml');
  writeFileSync(config, 'profiles:\n  work:\n    command: [echo, hi]\n');
  const missing = await run(['--config', config, '--profile', 'work'], s.env);
  assert.equal(missing.code, ExitCode.usage);
  assert.match(missing.stderr, /bad\.yaml: profiles\.work\.provider/);
  writeFileSync(config, 'profiles:\n  work:\n    provider: exec\n    command: "not-a-list"\n');
  const wrongType = await run(['--config', config, '--profile', 'work'], s.env);
  assert.equal(wrongType.code, ExitCode.usage);
  assert.match(wrongType.stderr, /^ck-test: profile work \(exec\): the command argument: expected array, received string; see ck-test exec --help$/m);
  const unknown = await run(['--config', config, '--profile', 'nope'], s.env);
  assert.match(unknown.stderr, /profile "nope" is not defined.*known profiles: work/);
  writeFileSync(config, 'profiles: [oops');
  assert.match((await run(['--config', config, '--profile', 'x'], s.env)).stderr, /not valid YAML/);
  assert.equal(missing.stdout + wrongType.stdout + unknown.stdout, '');
});

test('each failure class has its own exit code and one stderr line, and stdout stays empty', async () => {
  const s = sandbox();
  const cases: [string[], number, RegExp][] = [
    [['exec', '--bogus-flag'], ExitCode.usage, /unknown option/],
    [['vualt'], ExitCode.usage, /unknown provider "vualt"; known providers: env, file, exec/],
    [['env', 'CK_TEST_UNSET_VAR'], ExitCode.notFound, /CK_TEST_UNSET_VAR is not set/],
    [['exec', '--', 'sh', '-c', 'echo boom >&2; exit 3'], ExitCode.unreachable, /exited with 3: boom/],
    [['exec', '--timeout', '300ms', '--', 'sleep', '5'], ExitCode.deadline, /exec did not finish within 300ms; raise --timeout/],
    [['exec', '--timeout', 'soon', '--', 'true'], ExitCode.usage, /"soon" is not a duration/],
    [['file', join(s.root, 'missing')], ExitCode.notFound, /does not exist/],
  ];
  for (const [argv, code, pattern] of cases) {
    const r = await run(argv, s.env);
    assert.equal(r.code, code, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    assert.match(r.stderr, pattern, argv.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('credentials echoed by a failing source never reach stderr', async () => {
  const s = sandbox();
  const r = await run(['exec', '--', 'sh', '-c', 'echo "Authorization: Bearer sk-ant-api03-SECRETSECRETSECRET" >&2; exit 1'], s.env);
  assert.equal(r.code, ExitCode.unreachable);
  assert.ok(!r.stderr.includes('SECRETSECRETSECRET'), r.stderr);
  assert.match(r.stderr, /\[redacted\]/);
});

test('a file readable by others still works but warns with the chmod fix', async () => {
  const s = sandbox();
  const path = join(s.root, 'key');
  writeFileSync(path, 'file-token-abcdef\n', { mode: 0o644 });
  const r = await run(['file', path], s.env);
  assert.equal(r.stdout, 'file-token-abcdef\n');
  assert.match(r.stderr, /readable by other users.*chmod 600/);
  assert.ok(!r.stderr.includes('file-token-abcdef'));
});

test('cache clear removes cached tokens so the next call fetches', async () => {
  const s = sandbox();
  await run(['exec', '--', ...s.mint('tok-clear-1234')], s.env);
  const cleared = await run(['cache', 'clear'], s.env);
  assert.match(cleared.stdout, /removed 1 cached token/);
  await run(['exec', '--', ...s.mint('tok-clear-1234')], s.env);
  assert.equal(s.calls(), 2);
});

test('otel-headers prints the JSON object otelHeadersHelper expects, from a profile', async () => {
  const s = sandbox();
  const config = join(s.root, 'c.json');
  writeFileSync(config, JSON.stringify({ profiles: { telemetry: { provider: 'env', name: 'OTEL_TOKEN' } } }));
  const r = await run(['otel-headers', '--config', config, '--profile', 'telemetry'], { ...s.env, OTEL_TOKEN: 'otel-secret-99' });
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), { Authorization: 'Bearer otel-secret-99' });
  assert.equal(r.stdout.trim().split('\n').length, 1);
});

test('init merges apiKeyHelper and env into settings.json, keeps every other key, and leaves a backup', async () => {
  const s = sandbox();
  const settings = join(s.env.HOME!, '.claude', 'settings.json');
  mkdirSync(join(s.env.HOME!, '.claude'), { recursive: true });
  const before = { model: 'opus', permissions: { allow: ['Bash(ls)'] }, env: { FOO: 'bar' } };
  writeFileSync(settings, JSON.stringify(before));
  const r = await run(['init', '--profile', 'work', '--base-url', 'https://gw.example.com', '--ttl-ms', '900000', '--yes'], s.env);
  assert.equal(r.code, 0, r.stderr);
  const after = JSON.parse(readFileSync(settings, 'utf8'));
  assert.deepEqual(after, {
    ...before,
    apiKeyHelper: 'ck-test --profile work',
    env: { FOO: 'bar', ANTHROPIC_BASE_URL: 'https://gw.example.com', CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '900000' },
  });
  const backups = readdirSync(join(s.env.HOME!, '.claude')).filter((n) => n.startsWith('settings.json.bak-'));
  assert.equal(backups.length, 1);
  assert.deepEqual(JSON.parse(readFileSync(join(s.env.HOME!, '.claude', backups[0]!), 'utf8')), before);
  writeFileSync(settings, '{ broken');
  const bad = await run(['init', '--helper', 'x', '--yes'], s.env);
  assert.equal(bad.code, ExitCode.usage);
  assert.equal(readFileSync(settings, 'utf8'), '{ broken', 'a settings file we cannot parse is left untouched');
});

test('doctor checks the provider, warns when expiring tokens meet an unset TTL, and prints the settings to paste', async () => {
  const s = sandbox();
  const source = join(s.root, 'token.json');
  writeFileSync(source, JSON.stringify({ token: 'doc-token-abcdef', expires_in: 600 }));
  // A fixed clock: the lifetimes doctor prints are then exact, however slow the machine.
  const clock = { now: () => Date.UTC(2026, 10, 23, 12) };
  const r = await run(['doctor', 'exec', '--', 'cat', source], s.env, clock);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok {3}provider exec loads/);
  assert.match(r.stdout, /warn tokens expire \(this one in 10m\) but CLAUDE_CODE_API_KEY_HELPER_TTL_MS is unset/);
  assert.match(r.stdout, /"apiKeyHelper": "ck-test exec -- cat \//);
  assert.ok(!r.stdout.includes('doc-token-abcdef'));
  const short = await run(['doctor', '--ttl', '15m', 'exec', '--', 'cat', source], s.env, clock);
  assert.match(short.stdout, /warn token lifetime 10m is shorter than TTL 15m \+ grace 1m/);
  const failing = await run(['doctor', 'exec', '--', 'false'], s.env);
  assert.equal(failing.code, ExitCode.unreachable);
  assert.match(failing.stdout, /FAIL/);
});

test('a provider can be an npm package named in a profile; a package that breaks the contract is refused clearly', async () => {
  const s = sandbox();
  // Inside this package so the plugin can import zod like a real one would from its own deps.
  const base = mkdtempSync(join(resolve(import.meta.dirname, '..', '..'), '.plugin-test-'));
  const pkg = (name: string, body: string) => {
    const dir = join(base, 'node_modules', ...name.split('/'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', exports: { '.': { import: './index.js' } } }));
    writeFileSync(join(dir, 'index.js'), body);
  };
  pkg('@acme/claude-key-provider', `import { z } from 'zod';\nexport default { name: '@acme/claude-key-provider', summary: 'acme sso', options: z.object({ team: z.string() }), async fetch(o) { return { token: 'acme-' + o.team + '-token' }; } };\n`);
  pkg('@acme/broken-provider', `export default { name: 'broken', summary: 'no fetch', options: { safeParse() {} } };\n`);
  writeFileSync(
    join(base, 'config.yaml'),
    'profiles:\n  acme:\n    provider: "@acme/claude-key-provider"\n    team: platform\n  broken:\n    provider: "@acme/broken-provider"\n  absent:\n    provider: "@acme/not-installed-provider"\n',
  );
  try {
    const ok = await run(['--config', join(base, 'config.yaml'), '--profile', 'acme'], s.env);
    assert.deepEqual([ok.code, ok.stdout], [0, 'acme-platform-token\n']);
    const broken = await run(['--config', join(base, 'config.yaml'), '--profile', 'broken'], s.env);
    assert.equal(broken.code, ExitCode.usage);
    assert.match(broken.stderr, /package @acme\/broken-provider is not a claude-key provider: missing fetch\(\)/);
    const absent = await run(['--config', join(base, 'config.yaml'), '--profile', 'absent'], s.env);
    assert.match(absent.stderr, /not installed; npm install @acme\/not-installed-provider/);
  } finally {
    (await import('node:fs')).rmSync(base, { recursive: true, force: true });
  }
});

test('run with nothing to do, it prints help on stderr (never a fake token on stdout) and exits 2', async () => {
  const s = sandbox();
  const r = await run([], s.env);
  assert.equal(r.code, ExitCode.usage);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Usage: ck-test/);
});

test('--help teaches with real examples and the exit codes', async () => {
  const s = sandbox();
  const top = await run(['--help'], s.env);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /exec --max-age 300 -- vault kv get/);
  assert.match(top.stdout, /Exit codes: 0 ok, 1 internal, 2 usage\/config, 3 auth refused, 4 unreachable, 5 deadline, 6 not found/);
  const exec = await run(['exec', '--help'], s.env);
  assert.match(exec.stdout, /Claude Code settings:\n {2}\{ "apiKeyHelper": "claude-key exec --max-age 300/);
});

test('warm path: a repeat call from the same Claude Code process within the TTL is read as a refusal and fetches anew', async () => {
  const s = sandbox();
  const env = { ...s.env, CLAUDE_CODE_API_KEY_HELPER_TTL_MS: '600000' };
  const mint = ['sh', '-c', `echo x >> ${join(s.root, 'calls')}; echo "tok-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \\n')"`];
  const sessionA = { caller: () => '4000:123' };
  const sessionB = { caller: () => '5000:456' };
  const first = await run(['exec', '--', ...mint], env, sessionA);
  const fromB = await run(['exec', '--', ...mint], env, sessionB);
  assert.equal(fromB.stdout, first.stdout, 'another Claude Code session is served from the cache');
  assert.equal(s.calls(), 1);
  const retry = await run(['exec', '--', ...mint], env, sessionA);
  assert.notEqual(retry.stdout, first.stdout, 'the refused token is not handed out again');
  assert.equal(s.calls(), 2);
  const laterB = await run(['exec', '--', ...mint], env, sessionB);
  assert.equal(laterB.stdout, retry.stdout, 'session B now gets the fresh token, not the refused one');
});

test('--cache <store> keeps the token out of the cache files, serves warm calls from the store, and cache clear empties it', async () => {
  const s = sandbox();
  const values = new Map<string, string>();
  const memory = { name: 'memory', get: async (k: string) => values.get(k), set: async (k: string, v: string) => void values.set(k, v), delete: async (k: string) => void values.delete(k) };
  const spec = { tokenStores: { memory: async () => memory } };
  const first = await run(['exec', '--cache', 'memory', '--', ...s.mint('tok-in-store-777')], s.env, spec);
  assert.equal(first.stdout, 'tok-in-store-777\n');
  assert.deepEqual([...values.values()], ['tok-in-store-777']);
  for (const name of readdirSync(s.env.CLAUDE_KEY_CACHE_DIR!)) {
    assert.ok(!readFileSync(join(s.env.CLAUDE_KEY_CACHE_DIR!, name), 'utf8').includes('tok-in-store-777'), `${name} holds no token`);
  }
  assert.equal((await run(['exec', '--cache', 'memory', '--', ...s.mint('tok-in-store-777')], s.env, spec)).stdout, 'tok-in-store-777\n');
  assert.equal(s.calls(), 1);
  const cleared = await run(['cache', 'clear'], s.env, spec);
  assert.match(cleared.stdout, /removed 1 cached token/);
  assert.equal(values.size, 0);
  const unknown = await run(['exec', '--cache', 'vault', '--', 'true'], s.env, spec);
  assert.equal(unknown.code, ExitCode.usage);
  assert.match(unknown.stderr, /unknown cache store "vault"; use file, off, memory/);
});

test('a token that cannot be one header value (space, tab, ESC, NUL, non-ASCII, over 8 KiB) is refused with exit 3, never printed, quoted or cached', async () => {
  const s = sandbox();
  const cases: [string, string[], RegExp][] = [
    ['space', ['printf', 'tok-space abcdef'], /has a space at position 10/],
    ['tab', ['printf', 'tok-tab\\tabcdef'], /has a tab at position 8/],
    ['ESC', ['printf', 'tok-esc\\033[31mabcdef'], /has a control character \(0x1b\)/],
    ['NUL', ['printf', 'tok-nul\\000abcdef'], /has a control character \(0x00\)/],
    ['non-ASCII', ['printf', 'tok-caf\u00e9-abcdef'], /has a non-ASCII character/],
    ['line break', ['printf', 'tok-line-one\\ntok-line-two'], /has a line break/],
    ['oversize', ['sh', '-c', "head -c 9000 /dev/zero | tr '\\000' x"], /9000 characters long, over the 8192-byte limit/],
  ];
  for (const [what, command, pattern] of cases) {
    const r = await run(['exec', '--', ...command], s.env);
    assert.equal(r.code, ExitCode.auth, what);
    assert.equal(r.stdout, '', what);
    assert.match(r.stderr, /^ck-test: exec returned a token that .*, so it cannot be sent as a header; /, what);
    assert.match(r.stderr, pattern, what);
    assert.ok(!/abcdef|tok-line|xxxxxxxx/.test(r.stderr), `${what}: the token is not quoted: ${r.stderr}`);
  }
  const status = await run(['cache', 'status', '--json'], s.env);
  assert.deepEqual(JSON.parse(status.stdout), [], 'nothing refused was cached');
  // Surrounding whitespace (a trailing newline) is not part of the token and stays fine.
  assert.equal((await run(['exec', '--', 'printf', '  tok-padded-abcdef \\n'], s.env)).stdout, 'tok-padded-abcdef\n');
});

test('errors speak in flags, with one prefix: a missing option names --path, not a zod path, and "file: file:" never appears', async () => {
  const s = sandbox();
  const r = await run(['file'], s.env);
  assert.equal(r.code, ExitCode.usage);
  assert.equal(r.stderr, 'ck-test: file: the path argument is required; see ck-test file --help\n');
  const needsFlag = defineProvider({
    name: 'needs-flag',
    summary: 'test',
    options: z.object({ secretId: z.string() }),
    fetch: async () => ({ token: 'never-fetched' }),
  });
  const missingFlag = await run(['needs-flag'], s.env, { providers: [{ name: 'needs-flag', summary: 't', load: async () => needsFlag }] });
  assert.equal(missingFlag.stderr, 'ck-test: needs-flag: --secret-id is required; see ck-test needs-flag --help\n');
  const unknown = await run(['exec', '--bogus-flag', '--', 'true'], s.env);
  assert.equal(unknown.stderr, "ck-test: unknown option '--bogus-flag'; see ck-test exec --help\n");
});

test('--verbose says when the token came from the cache (the warm path steps aside for it)', async () => {
  const s = sandbox();
  await run(['exec', '--max-age', '300', '--', ...s.mint('tok-verbose-1234')], s.env);
  const r = await run(['exec', '--verbose', '--max-age', '300', '--', ...s.mint('tok-verbose-1234')], s.env);
  assert.equal(r.stdout, 'tok-verbose-1234\n');
  assert.equal(s.calls(), 1);
  assert.match(r.stderr, /exec: served the cached token \(fetched \d+ms ago, good for 4m 5\ds more\)/);
  assert.ok(!r.stderr.includes('tok-verbose-1234'));
});

test('cache status and cache clear with an unknown --profile are an error naming the known profiles, not "no cached tokens"', async () => {
  const s = sandbox();
  const config = join(s.root, 'c.json');
  writeFileSync(config, JSON.stringify({ profiles: { work: { provider: 'env', name: 'WORK_TOKEN' } } }));
  for (const command of ['status', 'clear']) {
    const r = await run(['cache', command, '--config', config, '--profile', 'nope'], s.env);
    assert.equal(r.code, ExitCode.usage, command);
    assert.equal(r.stdout, '', command);
    assert.match(r.stderr, /^ck-test: profile "nope" is not defined in .*c\.json; known profiles: work\n$/, command);
  }
  const known = await run(['cache', 'status', '--config', config, '--profile', 'work'], s.env);
  assert.equal(known.code, 0);
  assert.match(known.stdout, /no cached tokens .* for profile work/);
});

test('every command help lists the engine options its examples use', async () => {
  const s = sandbox();
  for (const command of [['cache', 'status'], ['cache', 'clear'], ['doctor'], ['init'], ['otel-headers']]) {
    const r = await run([...command, '--help'], s.env);
    assert.equal(r.code, 0, command.join(' '));
    for (const example of r.stdout.split('\n').filter((l) => l.trim().startsWith('ck-test ') || l.includes('"ck-test '))) {
      for (const flag of example.match(/--[a-z-]+/g) ?? []) {
        assert.match(r.stdout, new RegExp(`^ {2}${flag}[ ,<]`, 'm'), `${command.join(' ')} --help lists ${flag} (used in: ${example.trim()})`);
      }
    }
  }
});

test('the engine flag table is the one list: the warm split takes each flag, and the top and provider help both show it', async () => {
  const { ENGINE_FLAGS, splitArgs } = await import('../invocation.js');
  const s = sandbox();
  const top = (await run(['--help'], s.env)).stdout;
  const exec = (await run(['exec', '--help'], s.env)).stdout;
  for (const f of ENGINE_FLAGS) {
    const argv = 'value' in f ? ['exec', f.flag, 'v', '--', 'true'] : ['exec', f.flag, '--', 'true'];
    assert.deepEqual(splitArgs(argv).rest, ['--', 'true'], `${f.flag} is taken by the split`);
    const line = new RegExp(`^ {2}${f.flag}${'value' in f ? ` <${f.value}>` : ''} +${f.help.slice(0, 20).replace(/[$()]/g, '\\$&')}`, 'm');
    assert.match(top, line, `--help lists ${f.flag}`);
    assert.match(exec, line, `exec --help lists ${f.flag}`);
  }
});

test('a provider help shows a default-on switch as --no-<flag>, the form its examples use', async () => {
  const s = sandbox();
  const switched = defineProvider({
    name: 'switched',
    summary: 'test',
    options: z.object({ browser: z.boolean().default(true).describe('open a browser') }),
    examples: ['ck-test switched --no-browser'],
    fetch: async () => ({ token: 'never-fetched' }),
  });
  const r = await run(['switched', '--help'], s.env, { providers: [{ name: 'switched', summary: 't', load: async () => switched }] });
  assert.match(r.stdout, /^ {2}--no-browser +open a browser$/m);
  assert.doesNotMatch(r.stdout, /^ {2}--browser /m);
});
