// What the built binary loads on a cold call (empty cache): a plain provider call loads that
// provider and its SDK, not commander (the full program, for help and the other commands), not YAML
// (only for a YAML config), not another provider's SDK, not zod on an aws call (its options are
// checked from a table made at build time), and not the addon resolver of the lock's native addon. Checked structurally, not by timing: a
// loader hook (test/support/module-log.mjs) lists every ES module file the process loads, and the
// require cache every CommonJS one (the plain-call bundle, dist/plain/<provider>.cjs, is entered
// there too), and each library is recognised by a string its code carries however the bundle is
// split or minified.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_BIN, runClaudeKey } from '../packages/cli/src/testing.js';
import { VaultTestServer } from '../packages/vault-test-server/src/index.js';
import { startAwsTestServer, type AwsTestServer } from '../packages/provider-aws/src/test-support/aws-test-server.js';
import { REPO } from './support/claude-code.js';

const MARKERS = {
  commander: 'commander.unknownOption',
  yaml: 'YAMLParseError',
  vault: 'X-Vault-Token',
  awsSdk: 'x-amz-user-agent',
  // The SDK's credential chain (env, profiles, SSO, web identity, IMDS): its last-resort error.
  awsCredentialChain: 'Could not load credentials from any providers',
  awsSecretsManager: 'GetSecretValue',
  awsSts: 'GetCallerIdentity',
  google: 'metadata.google.internal',
  zod: '$ZodObject',
} as const;
type Library = keyof typeof MARKERS;

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('the cold path of the built binary loads only what the call needs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ck-cold-modules-'));
  let vault: VaultTestServer;
  let aws: AwsTestServer;
  let runs = 0;

  before(async () => {
    vault = await VaultTestServer.start();
    vault.root.enableKv('secret', 2).putSecret('secret/litellm/claude-code', { api_key: 'sk-vault-cold' });
    aws = await startAwsTestServer({
      accessKeys: { [KEY_ID]: SECRET_KEY },
      secrets: [{ name: 'team/anthropic', versions: [{ versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', stages: ['AWSCURRENT'], string: 'sk-aws-cold' }] }],
    });
  });
  after(async () => {
    await Promise.all([vault?.close(), aws?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the binary with an empty cache; returns its output and the libraries its loaded modules carry. */
  async function coldRun(args: string[], env: Record<string, string> = {}) {
    const run = ++runs;
    const log = join(dir, `modules-${run}.log`);
    writeFileSync(log, '');
    const result = await runClaudeKey(args, {
      env: {
        HOME: dir,
        CLAUDE_KEY_CACHE_DIR: join(dir, `cache-${run}`),
        CLAUDE_KEY_CONFIG_DIR: join(dir, `config-${run}`),
        NODE_OPTIONS: `--import=${join(REPO, 'test/support/module-log.mjs')}`,
        CLAUDE_KEY_TEST_MODULE_LOG: log,
        ...env,
      },
    });
    const files = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
    const loaded = new Set<Library>();
    for (const file of files.filter((f) => /\.[cm]?js$/.test(f))) {
      const code = readFileSync(file, 'utf8');
      for (const [library, marker] of Object.entries(MARKERS) as [Library, string][]) if (code.includes(marker)) loaded.add(library);
    }
    return { ...result, files, loaded };
  }

  const vaultEnv = () => ({ VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken });
  const awsEnv = () => ({
    AWS_ACCESS_KEY_ID: KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });

  it('a plain vault call: the vault provider, without commander, YAML or any other SDK', async () => {
    const run = await coldRun(['vault', '--path', 'secret/litellm/claude-code', '--field', 'api_key'], vaultEnv());
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, 'sk-vault-cold\n');
    // The plain-call bundle (one CommonJS script, compiled with the code cache), not the full CLI.
    assert.ok(run.files.includes(join(CLI_BIN, '..', 'plain', 'vault.cjs')), `the plain-call bundle was loaded: ${run.files.join(', ')}`);
    assert.deepEqual(run.files.filter((f) => f.startsWith(join(CLI_BIN, '..', 'full'))), []);
    assert.deepEqual([...run.loaded].sort(), ['vault', 'zod']);
    // The cache lock's addon, loaded without require-addon's general resolver (see cache/lock.ts).
    assert.ok(run.files.some((f) => f.endsWith('fs-native-extensions.node')), 'the lock addon was loaded');
    assert.deepEqual(run.files.filter((f) => f.includes('/require-addon/') || f.includes('/bare-')), []);
  });

  it('a plain aws call with credentials in the environment: GetSecretValue signed without the SDK client or its credential chain, and without zod', async () => {
    const run = await coldRun(['aws', '--secret-id', 'team/anthropic', '--endpoint-url', aws.url], awsEnv());
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, 'sk-aws-cold\n');
    assert.ok(run.files.includes(join(CLI_BIN, '..', 'plain', 'aws.cjs')), `the plain-call bundle was loaded: ${run.files.join(', ')}`);
    assert.deepEqual(run.files.filter((f) => f.startsWith(join(CLI_BIN, '..', 'full'))), []);
    assert.deepEqual([...run.loaded].sort(), ['awsSecretsManager']);
  });

  it('an aws call whose options need zod (a value it refuses, a profile) goes on to the full CLI, with the same words', async () => {
    const refused = await coldRun(['aws', '--secret-id', 'team/anthropic', '--endpoint-url', 'ftp://example.com'], awsEnv());
    assert.equal(refused.code, 2);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, 'claude-key: aws: --endpoint-url: Invalid URL; see claude-key aws --help\n');
    assert.ok(refused.loaded.has('zod'), 'zod words the error');
    const tooLong = await coldRun(['aws', '--secret-id', 'x'.repeat(2049)], awsEnv());
    assert.equal(tooLong.code, 2);
    assert.match(tooLong.stderr, /^claude-key: aws: --secret-id: Too big: expected string to have <=2048 characters; see claude-key aws --help\n$/);
    const config = join(dir, 'aws.json');
    writeFileSync(config, JSON.stringify({ profiles: { team: { provider: 'aws', 'secret-id': 'team/anthropic', 'endpoint-url': aws.url } } }));
    const profile = await coldRun(['aws', '--config', config, '--profile', 'team'], awsEnv());
    assert.equal(profile.stdout, 'sk-aws-cold\n', profile.stderr);
    assert.ok(profile.files.some((f) => f.startsWith(join(CLI_BIN, '..', 'full'))), 'the full CLI took it');
  });

  it('an aws call with a config file: the full CLI validates it once; then plain calls read its snapshot, without zod or YAML', async () => {
    const config = join(dir, 'defaults.yaml');
    writeFileSync(config, 'defaults:\n  timeout: 5s\nprofiles:\n  team:\n    provider: aws\n    secret-id: team/anthropic\n');
    const cache = join(dir, 'config-cache');
    const args = ['aws', '--config', config, '--secret-id', 'team/anthropic', '--endpoint-url', aws.url];
    const first = await coldRun(args, { ...awsEnv(), CLAUDE_KEY_CACHE_DIR: cache });
    assert.equal(first.stdout, 'sk-aws-cold\n', first.stderr);
    assert.ok(first.files.some((f) => f.startsWith(join(CLI_BIN, '..', 'full'))), 'the full CLI took the first call');
    // The token expires (its entry is gone); the config's snapshot stays.
    for (const f of readdirSync(cache)) if (!f.startsWith('config-')) rmSync(join(cache, f), { recursive: true, force: true });
    const next = await coldRun(args, { ...awsEnv(), CLAUDE_KEY_CACHE_DIR: cache });
    assert.equal(next.stdout, 'sk-aws-cold\n', next.stderr);
    assert.deepEqual(next.files.filter((f) => f.startsWith(join(CLI_BIN, '..', 'full'))), []);
    assert.deepEqual([...next.loaded].sort(), ['awsSecretsManager']);
  });

  it('an aws call with a named AWS profile loads the SDK client and its credential chain (still not STS)', async () => {
    const credentials = join(dir, 'aws-credentials-profile');
    writeFileSync(credentials, `[work]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET_KEY}\n`);
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noKeys } = awsEnv();
    const run = await coldRun(['aws', '--secret-id', 'team/anthropic', '--endpoint-url', aws.url, '--aws-profile', 'work'], { ...noKeys, AWS_SHARED_CREDENTIALS_FILE: credentials });
    assert.equal(run.stdout, 'sk-aws-cold\n', run.stderr);
    assert.deepEqual([...run.loaded].sort(), ['awsCredentialChain', 'awsSdk', 'awsSecretsManager']);
  });

  it('a profile from a JSON config: no commander, no YAML', async () => {
    const config = join(dir, 'work.json');
    writeFileSync(config, JSON.stringify({ profiles: { work: { provider: 'vault', path: 'secret/litellm/claude-code', field: 'api_key' } } }));
    const run = await coldRun(['--config', config, '--profile', 'work'], vaultEnv());
    assert.equal(run.stdout, 'sk-vault-cold\n', run.stderr);
    assert.deepEqual([...run.loaded].sort(), ['vault', 'zod']);
  });

  it('a profile from a YAML config loads YAML (and still not commander)', async () => {
    const config = join(dir, 'work.yaml');
    writeFileSync(config, 'profiles:\n  work:\n    provider: vault\n    path: secret/litellm/claude-code\n    field: api_key\n');
    const run = await coldRun(['--config', config, '--profile', 'work'], vaultEnv());
    assert.equal(run.stdout, 'sk-vault-cold\n', run.stderr);
    assert.deepEqual([...run.loaded].sort(), ['vault', 'yaml', 'zod']);
  });

  it('help and parse errors still go through commander', async () => {
    const help = await coldRun(['vault', '--help'], vaultEnv());
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: claude-key vault \[options\]/);
    assert.ok(help.loaded.has('commander'));
    const unknown = await coldRun(['vault', '--path', 'secret/litellm/claude-code', '--feild', 'api_key'], vaultEnv());
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /unknown option '--feild'.*see claude-key vault --help/);
    assert.ok(unknown.loaded.has('commander'));
  });
});
