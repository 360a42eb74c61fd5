// The plain-call bundle's V8 code cache: used when it is sound, a plain compile whenever it is not.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { runWithCodeCache } from './code-cache.js';

const SELF = pathToFileURL(join(import.meta.dirname, 'code-cache.ts')).href;

describe('runWithCodeCache', () => {
  const root = mkdtempSync(join(tmpdir(), 'ck-code-cache-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;

  /** A CommonJS script like the plain-call bundle: module.exports, require, and __ckImport for import() (a built-in through require). */
  function setup(body = '') {
    const dir = join(root, `case-${++n}`);
    mkdirSync(dir);
    const file = join(dir, 'script.cjs');
    writeFileSync(
      file,
      `${body}\nconst { basename } = require('node:path');\n` +
        `module.exports.run = async (x) => ({ twice: x * 2, file: basename(__filename), sep: (await __ckImport('node:path')).sep, def: (await __ckImport('node:path')).default === require('node:path'), rel: (await __ckImport('./data.mjs')).value });\n`,
    );
    writeFileSync(join(dir, 'data.mjs'), 'export const value = 42;\n');
    return { file, cache: join(dir, 'cache') };
  }

  /** One load, call and save in a process of its own (in this one, V8's in-memory compilation cache would answer). */
  async function call(file: string, cache: string | undefined) {
    const child = `import(${JSON.stringify(SELF)}).then(async ({ runWithCodeCache }) => {
      const script = runWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(cache)}, 'test');
      const result = await script.exports.run(21);
      script.save();
      process.stdout.write(JSON.stringify({ result, cacheUsed: script.cacheUsed }));
    })`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', child], { encoding: 'utf8' })) as { result: unknown; cacheUsed: boolean };
    assert.deepEqual(out.result, { twice: 42, file: 'script.cjs', sep: '/', def: true, rel: 42 });
    return out;
  }

  const cacheFiles = (cache: string) => readdirSync(cache).filter((f) => f.endsWith('.bin'));

  it('writes the cache after the call (0700 directory, 0600 file) and uses it next time, dynamic imports included', async () => {
    const { file, cache } = setup();
    assert.equal((await call(file, cache)).cacheUsed, false);
    assert.equal(statSync(cache).mode & 0o777, 0o700);
    const [bin] = cacheFiles(cache);
    assert.match(bin!, /^test-v\d+\.\d+\.\d+-[0-9a-f]{32}\.bin$/);
    assert.equal(statSync(join(cache, bin!)).mode & 0o777, 0o600);
    assert.equal((await call(file, cache)).cacheUsed, true);
    assert.deepEqual(cacheFiles(cache), [bin]);
  });

  it('without a cache directory: a plain compile, nothing written', async () => {
    const { file } = setup();
    assert.equal((await call(file, undefined)).cacheUsed, false);
  });

  it('a corrupt or truncated cache is not used, and is rewritten', async () => {
    const { file, cache } = setup();
    await call(file, cache);
    const path = join(cache, cacheFiles(cache)[0]!);
    const good = readFileSync(path);
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0xff;
    writeFileSync(path, flipped);
    assert.equal((await call(file, cache)).cacheUsed, false);
    assert.equal((await call(file, cache)).cacheUsed, true); // rewritten
    writeFileSync(path, good.subarray(0, good.length >> 1));
    assert.equal((await call(file, cache)).cacheUsed, false);
    assert.equal((await call(file, cache)).cacheUsed, true);
    writeFileSync(path, 'x');
    assert.equal((await call(file, cache)).cacheUsed, false);
  });

  it('a changed script gets a cache of its own and the old one goes', async () => {
    const { file, cache } = setup();
    await call(file, cache);
    const [before] = cacheFiles(cache);
    writeFileSync(file, `// another build\n${readFileSync(file, 'utf8')}`);
    assert.equal((await call(file, cache)).cacheUsed, false);
    const [now, ...rest] = cacheFiles(cache);
    assert.deepEqual(rest, []);
    assert.notEqual(now, before);
    assert.equal((await call(file, cache)).cacheUsed, true);
  });

  it('V8 refusing the data (made for another script of the same name) is a plain compile, and the cache is rewritten', async () => {
    const a = setup('// a');
    const b = setup('// b, a different script');
    await call(a.file, a.cache);
    await call(b.file, b.cache);
    // b's key, a's data: passes our checksum, V8 refuses it.
    const bPath = join(b.cache, cacheFiles(b.cache)[0]!);
    writeFileSync(bPath, readFileSync(join(a.cache, cacheFiles(a.cache)[0]!)));
    assert.equal((await call(b.file, b.cache)).cacheUsed, false);
    assert.equal((await call(b.file, b.cache)).cacheUsed, true);
  });

  it('a cache someone else could have written is not read: a group/world-writable directory or file, a symlink', async () => {
    const { file, cache } = setup();
    await call(file, cache);
    const path = join(cache, cacheFiles(cache)[0]!);
    chmodSync(path, 0o644);
    assert.equal((await call(file, cache)).cacheUsed, false); // and rewritten 0600
    assert.equal(statSync(path).mode & 0o777, 0o600);
    chmodSync(cache, 0o777);
    assert.equal((await call(file, cache)).cacheUsed, false);
    chmodSync(cache, 0o700);
    const elsewhere = setup();
    await call(elsewhere.file, elsewhere.cache);
    const link = join(root, `link-${n}`);
    symlinkSync(cache, link);
    assert.equal((await call(file, link)).cacheUsed, false);
  });

  it('a script that throws while loading throws here (the caller falls back to the full CLI)', () => {
    const { file, cache } = setup("throw new Error('broken bundle');");
    assert.throws(() => runWithCodeCache(file, cache, 'test'), /broken bundle/);
  });
});
