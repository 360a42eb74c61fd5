// Test fixtures: a CommandIO that records output, temp key dirs, a memory keychain, and a jose verifier.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import type { CommandIO, ProviderCommand } from '@claude-key/core';
import { createTestContext, type TestContext } from '@claude-key/core/testing';
import type { KeychainWriter } from '../keychain.js';

export interface RecordingIO extends CommandIO {
  out: string[];
  err: string[];
}

export function recordingIO(context: TestContext = createTestContext()): RecordingIO {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readSecret: async () => {
      throw new Error('no secret input in tests');
    },
    isInteractive: false,
    env: context.env,
    signal: context.signal,
    context,
  };
}

/** Runs a command the way the CLI would: raw flag values through the command's own schema. */
export async function runCommand(command: ProviderCommand, raw: Record<string, unknown>, io: RecordingIO = recordingIO()): Promise<RecordingIO> {
  await command.run(command.options.parse(raw), io);
  return io;
}

/** The JWKS a command printed on stdout (the last JSON document written). */
export function printedJwks(io: RecordingIO): { keys: JWK[] } {
  return JSON.parse(io.out.at(-1)!) as { keys: JWK[] };
}

/** A fresh directory, removed when the test process exits (node:test's after() inside a hook fires too early). */
const tempDirs: string[] = [];
process.once('exit', () => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

export async function tempDir(prefix = 'ck-jwt-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Stands in for the OS keychain (no Secret Service daemon runs here); `secrets` feeds createTestContext. */
export function memoryKeychain(): KeychainWriter & { secrets: Record<string, string> } {
  const secrets: Record<string, string> = {};
  return {
    secrets,
    async set(service, account, secret) {
      secrets[`keychain:${service}/${account}`] = secret;
    },
    async delete(service, account) {
      delete secrets[`keychain:${service}/${account}`];
    },
  };
}

/** Verifies like a gateway would: signature against the JWKS, issuer, audience, time at the injected clock. */
export function verifyAt(token: string, jwks: { keys: JWK[] }, nowMs: number, expect: { issuer?: string; audience?: string } = {}) {
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: expect.issuer ?? 'claude-key',
    ...(expect.audience === undefined ? {} : { audience: expect.audience }),
    algorithms: ['ES256', 'RS256', 'EdDSA'],
    typ: 'JWT',
    currentDate: new Date(nowMs),
  });
}

