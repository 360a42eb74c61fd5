// Reads a secret from a file, warning when other users can read it.
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { ConfigError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

export function expandHome(path: string, env: Env = process.env): string {
  return path === '~' || path.startsWith('~/') ? (env.HOME || homedir()) + path.slice(1) : path;
}

/** The file's contents without the trailing newline; a missing or unreadable file is a config error. */
export async function readSecretFile(path: string, env: Env, log: { warn(m: string): void }): Promise<string> {
  const full = expandHome(path, env);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ConfigError(
      code === 'ENOENT' ? `secret file ${full} does not exist` : `cannot read secret file ${full} (${code ?? 'error'})`,
      { hint: code === 'EACCES' ? 'check its owner and mode (0600)' : 'check the path' },
    );
  }
  if (process.platform !== 'win32') {
    const mode = (await stat(full)).mode & 0o777;
    if (mode & 0o044) log.warn(`${full} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${full}`);
  }
  return text.replace(/\r?\n$/, '');
}
