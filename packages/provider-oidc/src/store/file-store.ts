// Refresh tokens in 0600 files inside a 0700 directory, written atomically (the fallback store).
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ConfigError, configDir } from '@claude-key/core';
import { sessionId, type SessionKey, type SessionStore } from './session-store.js';

type Env = Readonly<Record<string, string | undefined>>;

/** `<config dir>/oidc`; CLAUDE_KEY_CONFIG_DIR moves the whole config dir (tests, shared hosts). */
export function defaultSessionDir(env: Env): string {
  return join(configDir('claude-key', env), 'oidc');
}

interface SessionFile {
  issuer: string;
  clientId: string;
  scope: string[];
  refreshToken: string;
}

export function createFileStore(dir: string): SessionStore {
  const pathOf = (key: SessionKey) => join(dir, `${sessionId(key)}.json`);
  return {
    async load(key) {
      const path = pathOf(key);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw new ConfigError(`cannot read the OIDC session file ${path} (${(err as { code?: string }).code ?? 'error'})`, {
          hint: 'check its owner and mode (0600)',
        });
      }
      const parsed = parseSessionFile(text);
      if (!parsed) {
        throw new ConfigError(`the OIDC session file ${path} is damaged`, { hint: `delete it and run claude-key oidc login again` });
      }
      return parsed.refreshToken;
    },
    async save(key, refreshToken) {
      const body: SessionFile = { issuer: key.issuer, clientId: key.clientId, scope: [...key.scope], refreshToken };
      const path = pathOf(key);
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        // mkdir keeps an existing directory's mode, and the umask may have widened a new one.
        await chmod(dir, 0o700);
        await writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      } catch (err) {
        throw new ConfigError(`cannot write the OIDC session file ${path} (${(err as { code?: string }).code ?? 'error'})`, {
          hint: 'check the directory is yours and writable, or set CLAUDE_KEY_CONFIG_DIR',
          cause: err,
        });
      }
      return path;
    },
    async remove(key) {
      const path = pathOf(key);
      try {
        await readFile(path);
      } catch {
        return false;
      }
      await rm(path, { force: true });
      return true;
    },
  };
}

function parseSessionFile(text: string): SessionFile | undefined {
  try {
    const value = JSON.parse(text) as Partial<SessionFile>;
    return typeof value.refreshToken === 'string' && value.refreshToken.length > 0 ? (value as SessionFile) : undefined;
  } catch {
    return undefined;
  }
}
