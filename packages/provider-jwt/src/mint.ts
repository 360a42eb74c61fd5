// Mints one token: claims from the options, times from the injected clock, a signature from the chosen signer.
import { userInfo } from 'node:os';
import { formatDuration, UsageError, type Credential, type ProviderContext } from '@claude-key/core';
import { buildPayload, parseClaimFlags } from './claims.js';
import { tokenLifetime } from './lifetime.js';
import type { MintOptions } from './options.js';
import type { Signer } from './signer.js';

function defaultSubject(): string {
  try {
    return userInfo().username;
  } catch {
    throw new UsageError('cannot tell the OS user name', { hint: 'pass --sub' });
  }
}

export async function mintToken(options: MintOptions, signer: Signer, ctx: ProviderContext): Promise<Credential> {
  if (options.minLifetime > options.maxLifetime) {
    throw new UsageError(`--min-lifetime ${formatDuration(options.minLifetime)} exceeds --max-lifetime ${formatDuration(options.maxLifetime)}`);
  }
  const extra = parseClaimFlags(options.claim, options.team !== undefined);
  const lifetime = tokenLifetime({
    ttlMs: ctx.ttlMs,
    graceMs: ctx.graceMs,
    skewMs: options.clockSkew,
    minLifetimeMs: options.minLifetime,
    maxLifetimeMs: options.maxLifetime,
  });
  if (lifetime.capped) {
    ctx.log.warn(
      `--max-lifetime ${formatDuration(options.maxLifetime)} is shorter than the TTL plus grace (${formatDuration(ctx.ttlMs + ctx.graceMs)}); Claude Code may send an expired token, so raise --max-lifetime or lower CLAUDE_CODE_API_KEY_HELPER_TTL_MS`,
    );
  }
  const now = ctx.now();
  const iat = Math.floor(now / 1000);
  const exp = Math.floor((now + lifetime.ms) / 1000);
  const payload = buildPayload({
    iss: options.iss,
    sub: options.sub ?? defaultSubject(),
    ...(options.aud === undefined ? {} : { aud: options.aud }),
    ...(options.team === undefined ? {} : { team: options.team }),
    extra,
    iat,
    nbf: iat - Math.ceil(options.clockSkew / 1000),
    exp,
  });
  const token = await signer.sign({ alg: signer.alg, kid: signer.kid, typ: 'JWT' }, payload);
  ctx.log.debug(`minted a ${signer.alg} JWT with kid ${signer.kid} (${signer.source}), valid ${formatDuration(exp * 1000 - now)}`);
  return {
    token,
    expiresAt: exp * 1000,
    meta: { kid: signer.kid, alg: signer.alg, jti: String(payload.jti), sub: String(payload.sub), source: signer.source },
  };
}
