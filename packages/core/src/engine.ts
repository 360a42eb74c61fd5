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
import { FileStore } from './cache/file-store.js';
import {
  ENTRY_VERSION,
  endOfLife,
  envHash,
  hashKey,
  isServable,
  isUsableWhenProviderDown,
  sha256,
  type CacheEntry,
} from './cache/entry.js';
import { servedWithinWindow } from './fast-path.js';
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
}

export interface TokenRequest {
  key: string;
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

  private async getTokenBefore(req: TokenRequest, deadline: AbortSignal): Promise<TokenResult> {
    const { deps } = this;
    const { settings } = req;
    if (settings.cache === 'off') {
      const credential = await this.fetch(req, deadline, false);
      return { token: credential.token, source: 'uncached', expiresAt: credential.expiresAt ?? null };
    }
    const caller = deps.caller();
    const tokenStore = settings.cache === 'file' ? undefined : await deps.tokenStore(settings.cache);
    const envNames = [...(req.provider.env ?? [])].sort();

    const readEntry = async (): Promise<CacheEntry | undefined> => {
      const entry = deps.store.read(req.key);
      if (!entry || entry.kind !== 'token' || entry.envHash !== envHash(entry.envNames, deps.env)) return undefined;
      if (entry.token === null) {
        if (!tokenStore || tokenStore.name !== entry.store) return undefined;
        const token = await tokenStore.get(req.key).catch(() => undefined);
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
      servedWithinWindow(deps.store.readServed(req.key), caller, entry.tokenHash, deps.now(), settings.ttlMs);
    const serve = (entry: CacheEntry, source: TokenSource): TokenResult => {
      if (caller !== undefined) deps.store.recordServed(req.key, { caller, tokenHash: entry.tokenHash, at: deps.now() });
      registerSecret(entry.token!);
      return { token: entry.token!, source, entry };
    };

    let entry = await readEntry();
    // Decided once: only this Claude Code process writes its own served record, so waiting for the
    // lock cannot change the answer.
    const refusedHash = entry && wasRefused(entry) ? entry.tokenHash : undefined;
    if (entry && refusedHash === undefined && isServable(entry, deps.now(), settings)) return serve(entry, 'cache');

    let release: () => Promise<void>;
    try {
      deps.store.ensureDir();
      release = await acquireLock(deps.store.entryPath(req.key), deps.store.lockPath(req.key), {
        signal: deadline,
        onWait: () => deps.log.debug(`waiting for another claude-key process fetching ${req.label}`),
      });
    } catch (err) {
      if (isClaudeKeyError(err)) throw err;
      throw new InternalError(`cannot lock the cache in ${deps.store.dir}: ${(err as Error).message}`, {
        hint: 'check that the directory is writable, or run with --no-cache',
      });
    }
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
        key: req.key,
        kind: 'token',
        provider: req.provider.name,
        ...(req.profileName ? { profile: req.profileName } : {}),
        fetchedAt: deps.now(),
        expiresAt: credential.expiresAt ?? null,
        maxAgeMs: settings.maxAgeMs,
        token: tokenStore ? null : credential.token,
        store: tokenStore ? tokenStore.name : 'file',
        tokenHash,
        envNames,
        envHash: envHash(envNames, deps.env),
        ...(credential.meta ? { meta: credential.meta } : {}),
        refused: [...refused].slice(-MAX_REFUSED),
      };
      try {
        if (tokenStore) await tokenStore.set(req.key, credential.token);
        await deps.store.write(fresh);
      } catch (err) {
        // A token we cannot cache is still a token: print it, say why the next call will be slower.
        deps.log.warn(`could not write the cache in ${deps.store.dir} (${(err as Error).message}); continuing without it`);
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
    let fire: (() => void) | undefined;
    const onDeadline = new Promise<never>((_, reject) => {
      fire = () =>
        reject(
          new DeadlineError(`${req.label} did not finish within ${formatDuration(req.settings.timeoutMs)}`, { hint: DEADLINE_HINT }),
        );
      if (deadline.aborted) fire();
      else deadline.addEventListener('abort', fire, { once: true });
    });
    try {
      const credential = await Promise.race([req.provider.fetch(req.options as never, ctx), onDeadline]);
      checkCredential(credential, req.label, this.deps.now());
      registerSecret(credential.token);
      this.deps.log.debug(`${req.label}: fetched a token in ${formatDuration(this.deps.now() - started)}`);
      return credential;
    } catch (err) {
      throw toClaudeKeyError(err, req.label, deadline, req.settings.timeoutMs);
    } finally {
      if (fire) deadline.removeEventListener('abort', fire);
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
            envNames: [],
            envHash: envHash([], deps.env),
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
