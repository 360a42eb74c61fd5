// Config loading: defaults, env overrides, and errors that name the bad field.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, it } from 'node:test';
import { isClaudeKeyError } from '@claude-key/core';
import { loadConfig, parseConfig } from './config.js';

const configError = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(isClaudeKeyError(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
};

describe('config', () => {
  it('runs on defaults: embedded mock upstream, embedded store, loopback', () => {
    const cfg = parseConfig({});
    assert.deepEqual(cfg.upstreams, { mock: { type: 'mock', timeoutMs: 600_000, maxInFlight: 256 } });
    assert.equal(cfg.listen.host, '127.0.0.1');
    assert.equal(cfg.store.url, undefined);
  });

  it('names the bad field by its path', () => {
    assert.match(configError(() => parseConfig({ auth: { issuers: [{ issuer: 'x', audience: 'a', jwksFile: 'f', algorithms: ['HS256'] }] } })), /auth\.issuers\.0\.algorithms\.0/);
    assert.match(configError(() => parseConfig({ listen: { port: 'eighty' } })), /listen\.port/);
    assert.match(configError(() => parseConfig({ routes: [{ model: '*', upstream: 'nowhere' }] })), /routes\.0\.upstream: unknown upstream "nowhere"/);
    assert.match(configError(() => parseConfig({ auth: { issuers: [{ issuer: 'x', audience: 'a' }] } })), /exactly one of jwksFile, jwksUrl or discovery/);
    assert.match(configError(() => parseConfig({ polices: {} })), /polices|Unrecognized/);
  });

  it('refuses the none algorithm and HMAC in the allow-list', () => {
    for (const alg of ['none', 'HS256']) {
      assert.match(configError(() => parseConfig({ auth: { issuers: [{ issuer: 'x', audience: 'a', jwksFile: 'f', algorithms: [alg] }] } })), /algorithms/);
    }
  });

  it('applies env overrides over the file and resolves paths next to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckg-config-'));
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, 'listen:\n  port: 9000\nstore:\n  path: ./data\n');
    const cfg = loadConfig(file, { PORT: '9100', DATABASE_URL: 'postgres://db/gw', REDIS_URL: 'redis://r:6379' });
    assert.equal(cfg.listen.port, 9100);
    assert.equal(cfg.store.url, 'postgres://db/gw');
    assert.equal(cfg.redis.url, 'redis://r:6379');
    assert.equal(cfg.store.path, join(dir, 'data'));
  });

  it('accepts the example config from the README as written', () => {
    const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../README.md'), 'utf8');
    const yaml = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const cfg = parseConfig(parseYaml(yaml));
    assert.equal(cfg.auth.issuers.length, 3);
    assert.equal(cfg.policies.teams.platform!.monthlyUsd, 5000);
  });

  it('reports unreadable and invalid YAML files in one line', () => {
    assert.match(configError(() => loadConfig('/nonexistent/gw.yaml', {})), /cannot read config file/);
    const dir = mkdtempSync(join(tmpdir(), 'ckg-config-'));
    writeFileSync(join(dir, 'bad.yaml'), 'listen: [1,\n');
    assert.match(configError(() => loadConfig(join(dir, 'bad.yaml'), {})), /not valid YAML/);
  });
});
