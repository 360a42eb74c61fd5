// `cache status` and `cache clear`: what is cached and for how long, never the token itself.
import { formatDuration } from '../duration.js';
import { endOfLife, type CacheEntry } from '../cache/entry.js';
import { resolveTarget } from '../invocation.js';
import type { RunContext } from './run.js';

/**
 * The cache entries of `--profile` (all without it). A profile that is neither in the config nor
 * in the cache is a typo, and "no cached tokens" would hide it: that is the unknown-profile error.
 */
function selectEntries(ctx: RunContext): CacheEntry[] {
  const profile = ctx.split.engine.profile;
  const entries = ctx.store.list();
  if (profile === undefined) return entries;
  const mine = entries.filter((e) => e.profile === profile);
  if (mine.length === 0 && !ctx.config?.profiles[profile]) resolveTarget({ ...ctx.split, command: undefined }, ctx.config);
  return mine;
}

export function cacheStatus(ctx: RunContext, opts: { json?: boolean }): void {
  const now = ctx.now();
  const profile = ctx.split.engine.profile;
  const entries = selectEntries(ctx)
    .filter((e) => e.kind === 'token')
    .sort((a, b) => b.fetchedAt - a.fetchedAt);
  const rows = entries.map((e) => ({
    key: e.key.slice(0, 12),
    provider: e.provider,
    profile: e.profile ?? null,
    fetchedAt: new Date(e.fetchedAt).toISOString(),
    ageMs: now - e.fetchedAt,
    expiresAt: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
    validForMs: endOfLife(e) - now,
    expiryKnown: e.expiresAt !== null,
    store: e.store,
    refusedTokens: e.refused.length,
    ...(e.meta ? { meta: e.meta } : {}),
  }));
  if (opts.json) {
    ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    ctx.io.stdout(`no cached tokens in ${ctx.store.dir}${profile ? ` for profile ${profile}` : ''}\n`);
    return;
  }
  ctx.io.stdout(`cache: ${ctx.store.dir}\n`);
  for (const r of rows) {
    const left = r.validForMs > 0 ? `${formatDuration(r.validForMs)} left` : `expired ${formatDuration(-r.validForMs)} ago`;
    const how = r.expiryKnown ? `expires ${r.expiresAt} (${left})` : `no expiry from provider; reused until max-age (${left})`;
    ctx.io.stdout(`${r.key}  ${r.profile ? `profile ${r.profile} (${r.provider})` : r.provider}  fetched ${formatDuration(r.ageMs)} ago  ${how}  store=${r.store}${r.refusedTokens ? `  refused=${r.refusedTokens}` : ''}${r.meta ? `  ${Object.entries(r.meta).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}\n`);
  }
}

export async function cacheClear(ctx: RunContext): Promise<void> {
  const profile = ctx.split.engine.profile;
  const entries = selectEntries(ctx);
  // Token values kept in another store (the keychain) go first, so no secret outlives its entry.
  for (const e of entries.filter((x) => x.store !== 'file')) {
    const store = await ctx.tokenStore(e.store);
    await store.delete(e.key).catch(() => {});
  }
  let n = entries.length;
  if (profile === undefined) n = ctx.store.clear();
  else for (const e of entries) await ctx.store.delete(e.key);
  ctx.io.stdout(`removed ${n} cached token${n === 1 ? '' : 's'}${profile ? ` of profile ${profile}` : ''} from ${ctx.store.dir}\n`);
}
