// Every fenced block in README.md and packages/*/README.md is run against the installed packages, or visibly marked as an illustration.
//
// The line before a block's opening fence (blank lines aside) says what it is:
//   <!-- run -->                   shell commands, run in order with the README's other blocks in one
//                                  bash session (-e -o pipefail), in a fresh directory and HOME, with
//                                  the installed claude-key, claude-key-gateway and claude on PATH and
//                                  npm pointed at the private registry the packages were published to;
//   <!-- file: PATH -->            written to PATH first (relative to that directory; ~/ is its HOME);
//   <!-- expect: PATH -->          JSON that the file at PATH must equal when the session reaches it;
//   <!-- illustration ... -->      shown, not run (it needs a Vault, a cloud account, a browser...).
// A block without one of these fails the test, so no command in the docs goes unrun by accident.
// Port 8080 in a README is replaced by a free port, so parallel runs do not collide.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { NODES, NPMRC, NPM_CACHE, REPO, freePort, nodeHeaders, pathFor, tempDir } from './support.js';

interface Block {
  file: string;
  line: number;
  lang: string;
  marker: string | undefined;
  body: string;
}

const MARKER = /^<!--\s*(run|file:\s*\S+|expect:\s*\S+|illustration\b[^>]*?)\s*-->$/;

export function blocks(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(\S*)/.exec(lines[i]!);
    if (!open) continue;
    let j = i - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const marker = j >= 0 ? MARKER.exec(lines[j]!.trim())?.[1] : undefined;
    const body: string[] = [];
    let k = i + 1;
    for (; k < lines.length && !lines[k]!.trimStart().startsWith(open[2]!); k++) body.push(lines[k]!.slice(open[1]!.length));
    found.push({ file: relative(REPO, file), line: i + 1, lang: open[3]!, marker, body: body.join('\n') + '\n' });
    i = k;
  }
  return found;
}

const READMES = [join(REPO, 'README.md'), ...readdirSync(join(REPO, 'packages')).map((p) => join(REPO, 'packages', p, 'README.md'))];

/** The session's script: files written and checked where they appear, commands run in order. */
function script(list: Block[], port: number): string {
  const out = ['set -euo pipefail', "trap 'jobs -p | xargs -r kill 2>/dev/null; wait' EXIT"];
  for (const b of list) {
    const body = b.body.replaceAll('8080', String(port));
    const [kind, arg] = b.marker!.split(/:\s*/);
    const path = arg?.replace(/^~\//, '$HOME/');
    out.push(`echo ${JSON.stringify(`--- ${b.file}:${b.line}`)} >&2`);
    if (kind === 'run') out.push(body);
    else if (kind === 'file') out.push(`mkdir -p "$(dirname "${path}")"`, `cat > "${path}" <<'DOCS_BLOCK_EOF'\n${body}DOCS_BLOCK_EOF`);
    else if (kind === 'expect')
      out.push(
        `cat > "$DOCS_EXPECTED" <<'DOCS_BLOCK_EOF'\n${body}DOCS_BLOCK_EOF`,
        `node -e 'const f=require("fs"),a=require("assert");a.deepStrictEqual(JSON.parse(f.readFileSync(process.argv[1],"utf8")),JSON.parse(f.readFileSync(process.argv[2],"utf8")))' "${path}" "$DOCS_EXPECTED"`,
      );
  }
  return out.join('\n') + '\n';
}

describe('the READMEs', () => {
  const all = READMES.flatMap((f) => blocks(f));

  it('mark every fenced block as run, file, expect or illustration', () => {
    const unmarked = all.filter((b) => !b.marker).map((b) => `${b.file}:${b.line} (${b.lang || 'no language'})`);
    assert.deepEqual(unmarked, [], 'each of these blocks needs a <!-- run -->, <!-- file: PATH -->, <!-- expect: PATH --> or <!-- illustration --> line before it');
  });

  for (const readme of READMES) {
    const runnable = blocks(readme).filter((b) => b.marker && !b.marker.startsWith('illustration'));
    if (!runnable.length) continue;
    const name = relative(REPO, readme);
    it(`${name}: its commands and files run as written`, async () => {
      const dir = tempDir('docs');
      const home = join(dir, 'home');
      mkdirSync(join(home, '.claude'), { recursive: true });
      // Claude Code's first-run screens are not part of any README's path.
      writeFileSync(join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
      const file = join(dir, 'session.sh');
      writeFileSync(file, script(runnable, await freePort()));
      const child = spawn('bash', [file], {
        cwd: dir,
        env: {
          PATH: pathFor(NODES[0]!, [join(dir, 'prefix/bin'), join(REPO, 'node_modules/.bin')]),
          HOME: home,
          DOCS_EXPECTED: join(dir, 'expected.json'),
          NPM_CONFIG_USERCONFIG: NPMRC,
          npm_config_prefix: join(dir, 'prefix'),
          npm_config_cache: NPM_CACHE,
          npm_config_prefer_offline: 'true',
          ...(nodeHeaders(NODES[0]!) ? { npm_config_nodedir: nodeHeaders(NODES[0]!)! } : {}),
          CI: 'true',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_TELEMETRY: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: a server a README starts in the background goes when the session does.
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
      const code = await new Promise<number | null>((done) => child.on('exit', done));
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is already gone
      }
      assert.equal(code, 0, `${name}'s blocks failed; the session's output:\n${output}`);
    });
  }
});
