// The config loader's snapshot: what the warm path and a plain call read instead of the file, so it
// must be exactly what the loader returns, or not be there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStore } from './cache/file-store.js';
import { loadConfigFile } from './config.js';
import { loadConfigFast } from './invocation.js';

describe('the config snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ck-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  async function load(text: string, ext = 'yaml') {
    const path = join(dir, `config-${++n}.${ext}`);
    writeFileSync(path, text);
    const store = new FileStore(join(dir, `cache-${n}`));
    return { config: await loadConfigFile(path, store), snapshot: loadConfigFast(path, store) };
  }

  it('is the loaded config, for YAML and JSON', async () => {
    const yaml = await load('defaults:\n  timeout: 5s\nprofiles:\n  work:\n    provider: aws\n    secret-id: team/key\n    retries: 3\n    tags: [a, b]\n    nested: { on: true, off: null }\n');
    assert.deepEqual(yaml.snapshot, yaml.config);
    const json = await load(JSON.stringify({ profiles: { work: { provider: 'vault', path: 'secret/x', version: 2 } } }), 'json');
    assert.deepEqual(json.snapshot, json.config);
  });

  it('is not written for values JSON cannot carry (the loader reads the file each time instead)', async () => {
    for (const value of ['.inf', '-.inf', '.nan', '-0.0']) {
      const { config, snapshot } = await load(`profiles:\n  work:\n    provider: aws\n    secret-id: team/key\n    odd: ${value}\n`);
      assert.equal(typeof config.profiles.work!.odd, 'number', value);
      assert.equal(snapshot, null, value);
    }
  });
});
