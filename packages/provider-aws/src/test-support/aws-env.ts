// Test helpers: an isolated AWS environment (process.env for the SDK, the same values for ctx.env) and temp shared config files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const AWS_VARS = /^AWS_/;

/**
 * The SDK reads process.env directly, so tests that exercise its credential chain set it for the
 * duration of one call and restore it afterwards. Every AWS_* variable of the host is hidden, the
 * shared files point at an empty temp dir and IMDS is off, so a developer's real ~/.aws never leaks in.
 */
export async function withAwsEnv<T>(vars: Record<string, string>, run: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const saved = new Map<string, string | undefined>();
  const isolated: Record<string, string> = {
    AWS_CONFIG_FILE: join(emptyDir(), 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(emptyDir(), 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...vars,
  };
  for (const key of Object.keys(process.env)) {
    if (AWS_VARS.test(key)) {
      saved.set(key, process.env[key]);
      delete process.env[key];
    }
  }
  for (const [key, value] of Object.entries(isolated)) {
    if (!saved.has(key)) saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  try {
    return await run(isolated);
  } finally {
    for (const key of Object.keys(process.env)) if (AWS_VARS.test(key)) delete process.env[key];
    for (const [key, value] of saved) if (value !== undefined) process.env[key] = value;
  }
}

const made: string[] = [];
function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'claude-key-aws-'));
  made.push(dir);
  return dir;
}

/** Writes a shared credentials + config pair (fresh paths each time: the SDK caches files by path). */
export function writeSharedFiles(credentials: string, config: string): { AWS_SHARED_CREDENTIALS_FILE: string; AWS_CONFIG_FILE: string } {
  const dir = emptyDir();
  const credentialsFile = join(dir, 'credentials');
  const configFile = join(dir, 'config');
  writeFileSync(credentialsFile, credentials, { mode: 0o600 });
  writeFileSync(configFile, config, { mode: 0o600 });
  return { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: configFile };
}

/** Removes every temp dir the helpers made. */
export function cleanupAwsEnv(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
