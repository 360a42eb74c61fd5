// `claude-key jwt enroll`: asks a gateway to bind this public key to you; an admin approves it there.
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import * as z from 'zod';
import { AuthError, defineCommand, UnreachableError, UsageError, zSecretRef } from '@claude-key/core';
import { readSecretRef } from '../key-source.js';
import { defaultKeysDir } from '../key-set.js';
import { resolveSigningKey } from '../key-source.js';
import { mintOptions } from '../options.js';
import { localSigner } from '../signer.js';
import { thumbprintKid } from '../signing-key.js';

/** The `aud` the gateway expects on the proof of possession (claude-key-gateway's ENROLL_AUDIENCE). */
export const ENROLL_AUDIENCE = 'claude-key-gateway enrollment';

const enrollOptions = z.object({
  gateway: z.string().url().describe('Base URL of the gateway, e.g. https://llm-gateway.example.com'),
  user: z.string().min(1).optional().describe('Your user id at the gateway (default: the OS user name; with --login, the login\'s user)'),
  login: zSecretRef('A login token proving who you are, e.g. profile:sso (a claude-key oidc profile): a gateway that trusts its issuer for enrollment approves at once').optional(),
  team: z.array(z.string().min(1)).default([]).describe('A team you ask to use (repeatable); the admin decides'),
  json: z.boolean().default(false).describe('Print the gateway\'s answer as JSON (kid, status, user, teams, issuer, audience)'),
  key: mintOptions.shape.key,
  kid: mintOptions.shape.kid,
  alg: mintOptions.shape.alg,
  keysDir: mintOptions.shape.keysDir,
});

export const enrollCommand = defineCommand({
  summary: 'Register this public key with a gateway for you (pending until a gateway admin approves it)',
  options: enrollOptions,
  examples: [
    'claude-key jwt enroll --gateway https://llm-gateway.example.com --user alice@example.com --team platform',
    'claude-key jwt enroll --gateway https://llm-gateway.example.com --login profile:sso',
  ],
  async run(options, io) {
    const keysDir = options.keysDir ?? defaultKeysDir(io.env);
    const { key, source } = await resolveSigningKey({ ...options, keysDir }, io.context);
    // The gateway knows an enrolled key by its thumbprint only, so a chosen kid could not collide with another's.
    const thumbprint = await thumbprintKid(key.publicJwk);
    if (key.kid !== thumbprint) {
      throw new UsageError(`key "${key.kid}" has a chosen kid; a gateway knows enrolled keys by their thumbprint ${thumbprint}`, {
        hint: 'run `claude-key jwt keygen` without --kid and enroll that key',
      });
    }
    const login = options.login === undefined ? undefined : await readSecretRef(io.context, options.login, 'the login token');
    const user = options.user ?? (login ? undefined : userInfo().username);
    const signer = await localSigner(key, source);
    const now = Math.floor(Date.now() / 1000);
    // Proof that the caller holds the private half: a short token for the enrollment audience, signed by the key.
    const proof = await signer.sign({ alg: key.alg, kid: key.kid, typ: 'JWT' }, { iss: 'claude-key', ...(user ? { sub: user } : {}), aud: ENROLL_AUDIENCE, iat: now, exp: now + 120, jti: randomUUID() });
    let res: Response;
    try {
      res = await fetch(new URL('enroll', options.gateway.endsWith('/') ? options.gateway : `${options.gateway}/`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(login ? { authorization: `Bearer ${login}` } : {}) },
        body: JSON.stringify({ jwk: key.publicJwk, user, teams: options.team, proof }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new UnreachableError(`cannot reach the gateway at ${options.gateway} (${(err as Error).message})`);
    }
    const body = (await res.json().catch(() => ({}))) as { kid?: string; status?: string; user?: string; error?: { message?: string } };
    if (!res.ok) {
      const message = `the gateway refused the enrollment: ${body.error?.message ?? `HTTP ${res.status}`}`;
      throw res.status === 401 || res.status === 403 ? new AuthError(message) : res.status >= 500 ? new UnreachableError(message) : new UsageError(message);
    }
    io.stdout(options.json ? `${JSON.stringify(body)}\n` : `${body.kid}\n`);
    if (body.status === 'active') io.stderr(`Key ${body.kid} is enrolled for ${body.user} and active.\n`);
    else io.stderr(`Enrollment of key ${body.kid} for ${body.user ?? user} is ${body.status}; ask a gateway admin to run:\n  claude-key-gateway keys approve ${body.kid}\n`);
  },
});
