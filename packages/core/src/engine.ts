// The engine: gets one token for one invocation, from the cache or the provider, safely under concurrency.
import {
  AuthError,
  ConfigError,
  DeadlineError,
  InternalError,
  UnreachableError,
  isAbortError,
  isClaudeKeyError,
  isNetworkError,
  type ClaudeKeyError,
} from './errors.js';
import { formatDuration } from './duration.js';
import { registerSecret, redact } from './redact.js';
import { acquireLock } from './cache/lock.js';
import { CacheUnavailableError, FileStore } from './cache/file-store.js';
import {
  ENTRY_VERSION,
  endOfLife,
  hashKey,
  isServable,
  isUsableWhenProviderDown,
  sha256,
  type CacheEntry,
} from './cache/entry.js';
import { servedWithinWindow } from './fast-path.js';
import { finalKey, identityBuilder, identityRecord, type IdentityRecord, type Purpose } from './identity.js';
import type { EngineSettings } from './invocation.js';
import type { Credential, Provider, ProviderContext, ProviderLogger, TokenStore } from './provider.js';
import { resolveSecretRef, type SchemeLookup } from './secret-ref.js';
import { tokenProblem } from './token.js';

type Env = Readonly<Record<string, string | undefined>>;


/** Everything the engine touches outside itself; tests replace the clock, caller and stores. */
export interface EngineDeps {
  helperName: string;
  store: FileStore;
  env: Env;
  now(): number;
  /** Identity of the Claude Code process that ran us, if any. */
  caller(): string | undefined;
  log: ProviderLogger;
  /** Reference schemes packages register (`keychain:`); env: and file: are built in. */
  secretScheme?: SchemeLookup;
  /** A non-file token store (`--cache keychain`). */
  tokenStore(name: string): Promise<TokenStore>;
  /** Resolves `profile:NAME` references by running that profile through the engine. */
  profileToken(name: string, depth: number): Promise<string>;
  /** A profile's config content, for the identity of `profile:NAME` references. */
  profileContent(name: string): unknown;
}

export interface TokenRequest {
  /** The invocation as typed (argv, profile, cwd): where the warm path finds this request's identity. */
  invocationKey: string;
  /** The working directory relative paths and commands resolve against. */
  cwd: string;
  /** The Claude Code hook the token is for (default: the provider's, else apiKeyHelper). */
  purpose?: Purpose;
  provider: Provider;
  /** For messages: "profile work (vault)" or "vault". */
  label: string;
  profileName?: string;
  options: unknown;
  settings: EngineSettings;
  /** Nesting depth of profile: references, to stop cycles. */
  depth?: number;
}

export type TokenSource = 'cache' | 'fresh' | 'stale' | 'uncached';

export interface TokenResult {
  token: string;
  source: TokenSource;
  entry?: CacheEntry;
  /** The provider's expiry for an uncached fetch (null: none given). */
  expiresAt?: number | null;
}

/** Refused tokens remembered per key; enough to cover a few rotations in a row. */
const MAX_REFUSED = 8;
/** Stale-if-error allowance past max-age for tokens with no known expiry. */
export const STALE_IF_ERROR_MS = 3_600_000;
const MAX_PROFILE_DEPTH = 4;
/** Any provider, not only a networked one, can be slow: a command, a keychain prompt, a login. */
const DEADLINE_HINT = 'raise --timeout if it is only slow; --verbose shows what it was doing';

export class Engine {
  constructor(private readonly deps: EngineDeps) {}

  async getToken(req: TokenRequest): Promise<TokenResult> {
    // A referenced timer (unlike AbortSignal.timeout) keeps the process alive until the deadline
    // even when a provider hangs on nothing, so a hang always ends in a clear deadline error.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('deadline', 'TimeoutError')), req.settings.timeoutMs);
    try {
      return await this.getTokenBefore(req, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The identity record of a request, or undefined for a provider that declares none (never cached). */
  identity(req: TokenRequest): IdentityRecord | undefined {
    const { provider } = req;
    if (typeof provider.identity !== 'function') {
      this.deps.log.debug(`${req.label}: the provider declares no identity; running without the cache`);
      return undefined;
    }
    const collected = identityBuilder({ cwd: req.cwd, env: this.deps.env, profile: (n) => this.deps.profileContent(n) });
    for (const name of provider.env ?? []) collected.env.add(name);
    const declared = provider.identity(req.options as never, collected.builder);
    return identityRecord(
      req.invocationKey,
      {
        helper: this.deps.helperName,
        purpose: req.purpose ?? provider.purpose ?? 'apiKeyHelper',
        provider: provider.name,
        inputs: declared.inputs,
        ...(declared.local ? { local: declared.local } : {}),
      },
      collected,
    );
  }

  private async getTokenBefore(req: TokenRequest, deadline: AbortSignal): Promise<TokenResult> {
    const uncached = async (): Promise<TokenResult> => {
      const credential = await this.fetch(req, deadline, false);
      return { token: credential.token, source: 'uncached', expiresAt: credential.expiresAt ?? null };
    };
    if (req.settings.cache === 'off') return uncached();
    const identity = this.identity(req);
    if (!identity) return uncached();
    const key = finalKey(identity, this.deps.env);
    if (identity.local) return this.local(req, identity, key, deadline);
    try {
      return await this.cachedToken(req, identity, key, deadline);
    } catch (err) {
      if (!(err instanceof CacheUnavailableError)) throw err;
      this.cacheUnavailable(err);
      return uncached();
    }
  }

  private warnedCache = false;
  /** One warning line per process: the token still comes, only slower next time. */
  private cacheUnavailable(err: Error): void {
    if (this.warnedCache) return;
    this.warnedCache = true;
    this.deps.log.warn(`cache unavailable (${redact(err.message)}); fetching without it`);
  }

  /** Cache operations before the fetch: any file-system failure means "no cache", never a failed run. */
  private cacheStep<T>(step: () => T): T {
    try {
      return step();
    } catch (err) {
      if (isClaudeKeyError(err) || err instanceof CacheUnavailableError) throw err;
      throw new CacheUnavailableError((err as Error).message);
    }
  }

  /** A served-to record for refusal detection; losing one is harmless, failing the run over it is not. */
  private recordServed(key: string, caller: string | undefined, tokenHash: string): void {
    if (caller === undefined) return;
    try {
      this.deps.store.recordServed(key, { caller, tokenHash, at: this.deps.now() });
    } catch (err) {
      this.deps.log.debug(`could not record the served token: ${(err as Error).message}`);
    }
  }

  /** Local sources (env, file) are read every time; only the identity and served records are kept. */
  private async local(req: TokenRequest, identity: IdentityRecord, key: string, deadline: AbortSignal): Promise<TokenResult> {
    const { deps } = this;
    const caller = deps.caller();
    const credential = await this.fetch(req, deadline, false);
    const tokenHash = sha256(credential.token);
    if (caller !== undefined && servedWithinWindow(deps.store.readServed(key), caller, tokenHash, deps.now(), req.settings.ttlMs)) {
      throw new AuthError(`${req.label} still holds the token the gateway just refused (HTTP 401)`, {
        hint: 'put a valid token there, then restart Claude Code',
      });
    }
    try {
      deps.store.writeIdentity(identity);
    } catch (err) {
      this.cacheUnavailable(err as Error);
    }
    this.recordServed(key, caller, tokenHash);
    return { token: credential.token, source: 'uncached', expiresAt: credential.expiresAt ?? null };
  }

  private async cachedToken(req: TokenRequest, identity: IdentityRecord, key: string, deadline: AbortSignal): Promise<TokenResult> {
    const { deps } = this;
    const { settings } = req;
    const caller = deps.caller();
    const tokenStore = settings.cache === 'file' ? undefined : await untilDeadline(deps.tokenStore(settings.cache), deadline, req);

    const readEntry = async (): Promise<CacheEntry | undefined> => {
      const entry = deps.store.read(key);
      if (!entry || entry.kind !== 'token') return undefined;
      if (entry.token === null) {
        if (!tokenStore || tokenStore.name !== entry.store) return undefined;
        const token = await untilDeadline(tokenStore.get(key), deadline, req).catch((err: unknown) => {
          if (isClaudeKeyError(err)) throw err;
          return undefined;
        });
        if (!token || sha256(token) !== entry.tokenHash) return undefined;
        registerSecret(token);
        return { ...entry, token };
      }
      // Known to redaction from the moment it is read: a provider error may quote it (stale-if-error).
      registerSecret(entry.token);
      return entry;
    };
    const wasRefused = (entry: CacheEntry) =>
      caller !== undefined &&
      servedWithinWindow(deps.store.readServed(key), caller, entry.tokenHash, deps.now(), settings.ttlMs);
    const serve = (entry: CacheEntry, source: TokenSource): TokenResult => {
      this.recordServed(key, caller, entry.tokenHash);
      registerSecret(entry.token!);
      return { token: entry.token!, source, entry };
    };

    let entry = await readEntry();
    // Decided once: only this Claude Code process writes its own served record, so waiting for the
    // lock cannot change the answer.
    const refusedHash = entry && wasRefused(entry) ? entry.tokenHash : undefined;
    if (entry && refusedHash === undefined && isServable(entry, deps.now(), settings)) {
      this.cacheStep(() => deps.store.writeIdentity(identity));
      return serve(entry, 'cache');
    }

    const release = await this.cacheStep(() => {
      deps.store.ensureDir();
      deps.store.writeIdentity(identity);
      return acquireLock(deps.store.lockPath(key), {
        signal: deadline,
        onWait: () => deps.log.debug(`waiting for another claude-key process fetching ${req.label}`),
      });
    }).catch((err: unknown) => {
      if (isClaudeKeyError(err) || err instanceof CacheUnavailableError) throw err;
      throw new CacheUnavailableError(`cannot lock ${deps.store.lockPath(key)}: ${(err as Error).message}`);
    });
    try {
      // Another process may have fetched while we waited for the lock.
      entry = await readEntry();
      if (refusedHash !== undefined) deps.log.debug(`the gateway refused the token served to this Claude Code process; fetching a new one`);
      const refused = new Set(entry?.refused ?? []);
      if (refusedHash) refused.add(refusedHash);
      if (entry && !refused.has(entry.tokenHash) && !wasRefused(entry) && isServable(entry, deps.now(), settings)) {
        return serve(entry, 'cache');
      }

      let credential: Credential;
      try {
        credential = await this.fetch(req, deadline, refusedHash !== undefined);
      } catch (err) {
        const down = isClaudeKeyError(err) && (err.code === 'UNREACHABLE' || err.code === 'DEADLINE');
        if (down && entry && !refused.has(entry.tokenHash) && isUsableWhenProviderDown(entry, deps.now(), STALE_IF_ERROR_MS)) {
          deps.log.warn(
            `${req.label}: ${(err as ClaudeKeyError).message}; serving the cached token (valid for ${formatDuration(endOfLife(entry) - deps.now())} more)`,
          );
          return serve(entry, 'stale');
        }
        throw err;
      }

      const tokenHash = sha256(credential.token);
      if (refused.has(tokenHash)) {
        throw new AuthError(`${req.label} returned the same token the gateway just refused (HTTP 401)`, {
          hint: 'the secret at the source is revoked or wrong: rotate it there, then run `claude-key cache clear`',
        });
      }
      const fresh: CacheEntry = {
        v: ENTRY_VERSION,
        key,
        kind: 'token',
        provider: req.provider.name,
        ...(req.profileName ? { profile: req.profileName } : {}),
        fetchedAt: deps.now(),
        expiresAt: credential.expiresAt ?? null,
        maxAgeMs: settings.maxAgeMs,
        token: tokenStore ? null : credential.token,
        store: tokenStore ? tokenStore.name : 'file',
        tokenHash,
        ...(credential.meta ? { meta: credential.meta } : {}),
        refused: [...refused].slice(-MAX_REFUSED),
      };
      try {
        if (tokenStore) await untilDeadline(tokenStore.set(key, credential.token), deadline, req);
        await deps.store.write(fresh);
      } catch (err) {
        // A token we cannot cache is still a token: print it, say why the next call will be slower.
        deps.log.warn(`could not write the cache in ${deps.store.dir} (${redact((err as Error).message)}); continuing without it`);
      }
      return serve({ ...fresh, token: credential.token }, 'fresh');
    } finally {
      await release().catch(() => {});
    }
  }

  /** One provider call under the deadline, with every failure turned into a ClaudeKeyError. */
  private async fetch(req: TokenRequest, deadline: AbortSignal, refused: boolean): Promise<Credential> {
    const ctx = this.context(req, deadline, refused);
    const started = this.deps.now();
    try {
      const credential = await untilDeadline(req.provider.fetch(req.options as never, ctx), deadline, req);
      checkCredential(credential, req.label, this.deps.now());
      registerSecret(credential.token);
      this.deps.log.debug(`${req.label}: fetched a token in ${formatDuration(this.deps.now() - started)}`);
      return credential;
    } catch (err) {
      throw toClaudeKeyError(err, req.label, deadline, req.settings.timeoutMs);
    }
  }

  /** The ProviderContext for one fetch. */
  context(req: TokenRequest, signal: AbortSignal, refused: boolean): ProviderContext {
    const { deps } = this;
    const subKey = (name: string, keyParts: unknown) => hashKey({ h: deps.helperName, sub: name, k: keyParts });
    return {
      signal,
      now: deps.now,
      env: deps.env,
      cwd: req.cwd,
      ttlMs: req.settings.ttlMs,
      graceMs: req.settings.graceMs,
      refused,
      log: {
        warn: (m) => deps.log.warn(`${req.label}: ${m}`),
        debug: (m) => deps.log.debug(`${req.label}: ${m}`),
      },
      cached: async (name, keyParts, load, opts = {}) => {
        const key = subKey(name, keyParts);
        const minValidity = opts.minValidityMs ?? 30_000;
        const maxAge = opts.maxAgeMs ?? 3_600_000;
        const hit = deps.store.read(key);
        if (hit && hit.kind === 'value' && hit.token !== null && endOfLife(hit) - deps.now() >= minValidity) {
          registerSecret(hit.token);
          return hit.token;
        }
        const loaded = await load();
        registerSecret(loaded.value);
        await deps.store
          .write({
            v: ENTRY_VERSION,
            key,
            kind: 'value',
            provider: `${req.provider.name}/${name}`,
            fetchedAt: deps.now(),
            expiresAt: loaded.expiresAt ?? null,
            maxAgeMs: maxAge,
            token: loaded.value,
            store: 'file',
            tokenHash: sha256(loaded.value),
            refused: [],
          })
          .catch((err: Error) => deps.log.debug(`could not cache ${name}: ${err.message}`));
        return loaded.value;
      },
      forget: async (name, keyParts) => deps.store.delete(subKey(name, keyParts)),
      secret: (ref) => this.resolveSecret(ref, req, signal),
    };
  }

  /** `profile:` references here; `env:`, `file:` and registered schemes through the one resolver. */
  async resolveSecret(ref: string, req: TokenRequest, signal: AbortSignal): Promise<string> {
    const { deps } = this;
    let value: string;
    if (ref.startsWith('profile:')) {
      const depth = (req.depth ?? 0) + 1;
      if (depth > MAX_PROFILE_DEPTH) throw new ConfigError(`profile references nest deeper than ${MAX_PROFILE_DEPTH} (a cycle?) at "${ref}"`);
      value = await deps.profileToken(ref.slice('profile:'.length), depth);
    } else {
      value = await resolveSecretRef(ref, { env: deps.env, signal, warn: (m) => deps.log.warn(`${req.label}: ${m}`) }, deps.secretScheme);
    }
    registerSecret(value);
    return value;
  }
}

/**
 * `work` or a DeadlineError at the deadline, whichever comes first. The work itself is not awaited
 * past the deadline: a provider that ignores its signal cannot hold the run.
 */
function untilDeadline<T>(work: Promise<T>, deadline: AbortSignal, req: Pick<TokenRequest, 'label' | 'settings'>): Promise<T> {
  let fire: (() => void) | undefined;
  const onDeadline = new Promise<never>((_, reject) => {
    fire = () =>
      reject(
        new DeadlineError(`${req.label} did not finish within ${formatDuration(req.settings.timeoutMs)}`, { hint: DEADLINE_HINT }),
      );
    if (deadline.aborted) fire();
    else deadline.addEventListener('abort', fire, { once: true });
  });
  work.catch(() => {});
  return Promise.race([work, onDeadline]).finally(() => {
    if (fire) deadline.removeEventListener('abort', fire);
  });
}

function checkCredential(credential: Credential, label: string, now: number): void {
  if (typeof credential !== 'object' || credential === null || typeof credential.token !== 'string') {
    throw new InternalError(`${label} returned no token (provider bug)`);
  }
  const token = credential.token.trim();
  if (token.length === 0) throw new AuthError(`${label} returned an empty token`, { hint: 'check the secret at the source' });
  const problem = tokenProblem(token);
  if (problem) {
    // Never quote the token: the position and the kind of character are enough to find it.
    throw new AuthError(`${label} returned a token that ${problem}, so it cannot be sent as a header`, {
      hint: 'fix the secret at the source, or pick the single field that holds the token',
    });
  }
  credential.token = token;
  if (credential.expiresAt !== undefined) {
    if (!Number.isFinite(credential.expiresAt)) throw new InternalError(`${label} returned an invalid expiry (provider bug)`);
    if (credential.expiresAt <= now) throw new AuthError(`${label} returned a token that has already expired`, { hint: 'check the clock and the source' });
  }
}

/** Maps anything a provider throws onto the error family, without leaking secrets. */
export function toClaudeKeyError(err: unknown, label: string, deadline: AbortSignal, timeoutMs: number): ClaudeKeyError {
  if (isClaudeKeyError(err)) return err;
  if (deadline.aborted || isAbortError(err)) {
    return new DeadlineError(`${label} did not finish within ${formatDuration(timeoutMs)}`, { hint: DEADLINE_HINT });
  }
  if (isNetworkError(err)) {
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    return new UnreachableError(`${label} is unreachable${code ? ` (${code})` : ''}`, { hint: 'check the address and your network' });
  }
  const message = redact(err instanceof Error ? err.message : String(err)).split('\n')[0];
  return new InternalError(`${label} failed unexpectedly: ${message}`, { cause: err });
}
