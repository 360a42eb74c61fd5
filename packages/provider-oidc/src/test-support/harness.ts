// Test plumbing: a CommandIO over the test context, and a login that a simulated user completes.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandIO, Provider } from '@claude-key/core';
import { createTestContext, type TestContext, type TestContextOptions } from '@claude-key/core/testing';
import { completeDeviceSignIn } from './device-user.js';

export async function tempConfigDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'claude-key-oidc-'));
}

export function commandIo(ctx: TestContext, opts: { interactive?: boolean; onStderr?: (text: string) => void } = {}) {
  const stderr: string[] = [];
  const stdout: string[] = [];
  const io: CommandIO = {
    stdout: (text) => stdout.push(text),
    stderr: (text) => {
      stderr.push(text);
      opts.onStderr?.(text);
    },
    readSecret: async () => {
      throw new Error('no prompts in tests');
    },
    isInteractive: opts.interactive ?? false,
    env: ctx.env,
    signal: ctx.signal,
    context: ctx,
  };
  return { io, stdout, stderr };
}

/**
 * Runs `oidc login` and, like a person reading the terminal, takes the URL and code from stderr
 * and completes the sign-in on the OP's pages.
 */
export async function loginThroughDeviceFlow(
  provider: Provider,
  options: Record<string, unknown>,
  context: TestContextOptions,
  interactive = false,
) {
  const ctx = createTestContext(context);
  let signIn: Promise<string> | undefined;
  const { io, stdout, stderr } = commandIo(ctx, {
    interactive,
    onStderr: (text) => {
      const shown = /open (\S+) and enter the code (\S+)/.exec(text);
      if (shown && !signIn) signIn = completeDeviceSignIn(shown[1]!, shown[2]!);
    },
  });
  const login = provider.commands!.login!;
  await login.run(login.options.parse(options), io);
  if (!signIn) throw new Error('login never showed a verification URL and code');
  const successPage = await signIn;
  return { stdout, stderr: stderr.join(''), successPage };
}
