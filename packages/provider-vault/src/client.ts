// A small typed Vault HTTP client on node:http/https (undici's fetch for custom TLS): namespaces, TLS settings and error mapping built in.
import type { Dispatcher } from 'undici';
import { AuthError, UnreachableError, isAbortError } from '@claude-key/core';
import { responseError, transportError, vaultReasons, type RequestSite } from './vault-errors.js';

/** The envelope every Vault logical response shares. */
export interface VaultEnvelope<D = Record<string, unknown>> {
  request_id?: string;
  lease_id: string;
  lease_duration: number;
  renewable: boolean;
  data: D | null;
  auth: VaultAuth | null;
  warnings: string[] | null;
}

export interface VaultAuth {
  client_token: string;
  accessor?: string;
  policies?: string[];
  lease_duration: number;
  renewable: boolean;
}

/** TLS settings in the form undici's connector takes them. */
export interface VaultTls {
  ca?: string[];
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface VaultClientOptions {
  /** e.g. `https://vault.example.com:8200` (no `/v1`). */
  address: string;
  namespace?: string;
  token?: string;
  tls?: VaultTls;
  /**
   * Origins a 307/308 from a standby node may be followed to, with the token. The address's own
   * origin is always allowed; any other origin, or a change of scheme, is refused (see README).
   */
  redirectOrigins?: string[];
  /** The address is the vault CLI's default because none was configured (for the unreachable hint). */
  defaultAddress?: boolean;
  signal?: AbortSignal;
}

export interface TransitSignOptions {
  mount?: string;
  /** `sha2-256` (default), `sha2-384`, `sha2-512`, ... */
  hashAlgorithm?: string;
  /** `jws` gives the raw r||s form JOSE expects for ECDSA, base64url-encoded. Default `asn1`. */
  marshalingAlgorithm?: 'asn1' | 'jws';
  /** RSA only: `pss` (Vault's default) or `pkcs1v15`. */
  signatureAlgorithm?: 'pss' | 'pkcs1v15';
  keyVersion?: number;
}

export interface TransitSignature {
  /** The encoded signature without Vault's `vault:vN:` prefix. */
  signature: string;
  keyVersion: number;
}

export interface TransitKeyInfo {
  type: string;
  latestVersion: number;
  /** Public key per version: PEM for ECDSA/RSA, base64 of the raw key for ed25519. */
  publicKeys: Record<number, string>;
}

export interface MountInfo {
  /** Mount path with a trailing slash, e.g. `secret/`. */
  path: string;
  type: string;
  /** KV version (1 or 2) for `kv` mounts; undefined for other engines. */
  kvVersion: 1 | 2 | undefined;
}

type Method = 'GET' | 'POST';

interface FetchInit {
  method: Method;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
  redirect: 'manual';
}

/** The part of a fetch Response the client uses; undici's fetch and nodeRequest both give it. */
interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * One request with `node:http` or `node:https`, answered in the shape fetch gives. A failure before
 * the answer is wrapped the way fetch wraps it (`TypeError('fetch failed', { cause })`), so the
 * error mapping sees the same chain either way.
 */
async function nodeRequest(url: URL, init: FetchInit): Promise<FetchResponse> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers: Record<string, string | number> = { ...init.headers };
  if (init.body !== undefined) headers['Content-Length'] = Buffer.byteLength(init.body);
  return new Promise<FetchResponse>((resolve, reject) => {
    const fail = (err: unknown) => reject(isAbortError(err) ? err : new TypeError('fetch failed', { cause: err }));
    const req = request(url, { method: init.method, headers, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      const text = new Promise<string>((done, bad) => {
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '')));
        res.on('error', (err) => bad(isAbortError(err) ? err : new TypeError('terminated', { cause: err })));
        res.on('close', () => {
          if (!res.complete) bad(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }));
        });
      });
      text.catch(() => {});
      resolve({
        status: res.statusCode ?? 0,
        headers: {
          get: (name) => {
            const value = res.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
          },
        },
        text: () => text,
      });
    });
    req.on('error', fail);
    req.end(init.body);
  });
}

/** A standby answers 307 to the active node (http/handler.go respondStandby); 308 is followed the same way. */
const REDIRECTS = new Set([307, 308]);
const MAX_REDIRECTS = 3;

/** An HTTP answer: status and parsed JSON body (undefined for 204). */
export interface VaultAnswer {
  status: number;
  body: unknown;
}

const trimSlashes = (value: string) => value.replace(/^\/+|\/+$/g, '');

export class VaultClient {
  readonly address: string;
  readonly namespace: string | undefined;
  token: string | undefined;
  private readonly tls: VaultTls | undefined;
  private readonly redirectOrigins: Set<string>;
  private readonly defaultAddress: boolean;
  private readonly signal: AbortSignal;
  private dispatcher: Dispatcher | undefined;

  constructor(opts: VaultClientOptions) {
    this.address = opts.address.replace(/\/+$/, '');
    this.namespace = opts.namespace ? trimSlashes(opts.namespace) : undefined;
    this.token = opts.token;
    this.tls = opts.tls;
    this.defaultAddress = opts.defaultAddress ?? false;
    this.redirectOrigins = new Set([new URL(this.address).origin, ...(opts.redirectOrigins ?? []).map((o) => new URL(o).origin)]);
    this.signal = opts.signal ?? new AbortController().signal;
  }

  /** Reads a logical path (`secret/data/app`, `database/creds/ro`); query e.g. `{ version: '3' }`. */
  async read<D = Record<string, unknown>>(path: string, query?: Record<string, string>): Promise<VaultEnvelope<D>> {
    return (await this.request('GET', path, { query, capability: 'read' })).body as VaultEnvelope<D>;
  }

  /** Writes to a logical path; returns the envelope, or undefined for Vault's 204 No Content. */
  async write<D = Record<string, unknown>>(path: string, body: Record<string, unknown>): Promise<VaultEnvelope<D> | undefined> {
    return (await this.request('POST', path, { body, capability: 'update' })).body as VaultEnvelope<D> | undefined;
  }

  /** Logs in at `auth/<mount>/login` and keeps the new token for later calls. */
  async login(mount: string, body: Record<string, unknown>): Promise<VaultAuth> {
    const loginPath = `auth/${trimSlashes(mount)}/login`;
    const answer = await this.request('POST', loginPath, { body, capability: 'update', anonymous: true, allowStatus: [400, 401, 403] });
    if (answer.status >= 400) {
      // Login refusals ("invalid role or secret ID", "permission denied") are about the
      // credentials, not a policy, so they get their own wording.
      const reason = vaultReasons((answer.body as { errors?: unknown } | undefined)?.errors) || `HTTP ${answer.status}`;
      throw new AuthError(`Vault refused the login at ${loginPath} on ${this.address} (${reason})`, {
        hint: 'check the role and the credentials it was given',
      });
    }
    const auth = (answer.body as VaultEnvelope | undefined)?.auth;
    if (!auth || typeof auth.client_token !== 'string' || !auth.client_token) {
      throw new UnreachableError(`Vault at ${this.address} answered the login at ${loginPath} without auth.client_token`);
    }
    this.token = auth.client_token;
    return auth;
  }

  async renewSelf(incrementSeconds?: number): Promise<VaultAuth> {
    const body = incrementSeconds ? { increment: incrementSeconds } : {};
    const answer = await this.write('auth/token/renew-self', body);
    if (!answer?.auth) throw new UnreachableError(`Vault at ${this.address} answered renew-self without auth`);
    return answer.auth;
  }

  async lookupSelf(): Promise<Record<string, unknown>> {
    return (await this.read('auth/token/lookup-self')).data ?? {};
  }

  /**
   * The mount a path lives on, via `sys/internal/ui/mounts/<path>` as the vault CLI's KV
   * preflight does. Undefined when the server predates that endpoint (404): treat as KV v1.
   */
  async mountInfo(path: string): Promise<MountInfo | undefined> {
    const answer = await this.request('GET', `sys/internal/ui/mounts/${trimSlashes(path)}`, { capability: 'read', allowStatus: [404] });
    if (answer.status === 404) return undefined;
    const data = (answer.body as VaultEnvelope | undefined)?.data ?? {};
    const mountPath = typeof data.path === 'string' ? data.path : '';
    const type = typeof data.type === 'string' ? data.type : '';
    const version = (data.options as { version?: unknown } | null | undefined)?.version;
    const isKv = type === 'kv' || type === 'generic';
    return { path: mountPath, type, kvVersion: isKv ? (String(version) === '2' ? 2 : 1) : undefined };
  }

  /** Signs `input` with a transit key (`<mount>/sign/<key>`). */
  async transitSign(key: string, input: Uint8Array, opts: TransitSignOptions = {}): Promise<TransitSignature> {
    const body: Record<string, unknown> = {
      input: Buffer.from(input).toString('base64'),
      hash_algorithm: opts.hashAlgorithm ?? 'sha2-256',
      marshaling_algorithm: opts.marshalingAlgorithm ?? 'asn1',
    };
    if (opts.signatureAlgorithm) body.signature_algorithm = opts.signatureAlgorithm;
    if (opts.keyVersion) body.key_version = opts.keyVersion;
    const answer = await this.write<{ signature?: unknown }>(`${trimSlashes(opts.mount ?? 'transit')}/sign/${key}`, body);
    const match = /^vault:v(\d+):(.+)$/.exec(String(answer?.data?.signature ?? ''));
    if (!match) throw new UnreachableError(`Vault at ${this.address} answered transit sign without a vault:vN: signature`);
    return { signature: match[2]!, keyVersion: Number(match[1]) };
  }

  /** Public keys of a transit key (`<mount>/keys/<key>`). */
  async transitKey(key: string, mount = 'transit'): Promise<TransitKeyInfo> {
    const answer = await this.read<{ type?: unknown; latest_version?: unknown; keys?: Record<string, { public_key?: unknown }> }>(
      `${trimSlashes(mount)}/keys/${key}`,
    );
    const data = answer.data ?? {};
    const publicKeys: Record<number, string> = {};
    for (const [version, entry] of Object.entries(data.keys ?? {})) {
      if (typeof entry?.public_key === 'string') publicKeys[Number(version)] = entry.public_key;
    }
    return { type: String(data.type ?? ''), latestVersion: Number(data.latest_version ?? 0), publicKeys };
  }

  /**
   * One HTTP exchange. Non-2xx answers become claude-key errors unless their status is listed in
   * `allowStatus`, in which case the status and body come back for the caller to interpret.
   */
  async request(
    method: Method,
    path: string,
    opts: { query?: Record<string, string>; body?: unknown; capability: RequestSite['capability']; anonymous?: boolean; allowStatus?: number[] },
  ): Promise<VaultAnswer> {
    const apiPath = trimSlashes(path);
    const site: RequestSite = { address: this.address, apiPath, capability: opts.capability, defaultAddress: this.defaultAddress };
    const url = new URL(`${this.address}/v1/${apiPath}`);
    for (const [name, value] of Object.entries(opts.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (this.token && !opts.anonymous) headers['X-Vault-Token'] = this.token;
    if (this.namespace) headers['X-Vault-Namespace'] = this.namespace;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';

    let res: FetchResponse;
    let text: string;
    try {
      const init: FetchInit = { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: this.signal, redirect: 'manual' };
      let target = url;
      for (let hops = 0; ; hops++) {
        res = await this.send(target, init);
        text = await res.text();
        if (!REDIRECTS.has(res.status) || !res.headers.get('location')) break;
        if (hops === MAX_REDIRECTS) throw new UnreachableError(`Vault at ${this.address} redirected ${apiPath} more than ${MAX_REDIRECTS} times`);
        target = this.redirectTarget(new URL(res.headers.get('location')!, target), apiPath);
      }
    } catch (err) {
      if (err instanceof UnreachableError) throw err;
      throw transportError(err, site, this.signal);
    }
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new UnreachableError(`Vault at ${this.address} answered HTTP ${res.status} for ${apiPath} with a body that is not JSON`, {
          hint: 'check VAULT_ADDR points at Vault itself, not a proxy or web page',
        });
      }
    }
    if ((res.status >= 200 && res.status < 300) || opts.allowStatus?.includes(res.status)) return { status: res.status, body };
    throw responseError(res.status, (body as { errors?: unknown } | undefined)?.errors, site);
  }

  /**
   * Where a standby's redirect may take the request. The token travels with it, so only the
   * scheme of the configured address and only origins the operator named are accepted.
   */
  private redirectTarget(location: URL, apiPath: string): URL {
    const scheme = new URL(this.address).protocol;
    const hint = `set VAULT_ADDR to the active node (or a load balancer in front of the active node), or allow it with --allow-redirect-to ${location.origin}`;
    if (location.protocol !== scheme) {
      throw new UnreachableError(`Vault at ${this.address} redirected ${apiPath} to ${location.origin}, a different scheme; not followed, so the token stays on ${scheme.slice(0, -1)}`, { hint });
    }
    if (!this.redirectOrigins.has(location.origin)) {
      throw new UnreachableError(`Vault at ${this.address} is a standby node and redirected ${apiPath} to ${location.origin}; not followed, because the token goes only to addresses you name`, { hint });
    }
    return location;
  }

  /**
   * `node:http`/`node:https` when the default trust store will do (a first `fetch()` costs about
   * 15 ms more CPU, for loading undici and web streams, on a cold run); undici's fetch with a private Agent when the CA, verification or
   * server name is customised, so those settings never leak into other requests.
   */
  private async send(url: URL, init: FetchInit): Promise<FetchResponse> {
    if (!this.tls) return nodeRequest(url, init);
    const { Agent, fetch } = await import('undici');
    if (!this.dispatcher) {
      const { ca, rejectUnauthorized, servername } = this.tls;
      this.dispatcher = new Agent({ connect: { ca, rejectUnauthorized, servername } });
    }
    return fetch(url, { ...init, dispatcher: this.dispatcher });
  }

  /** Releases a private connection pool, if one was made; call when done. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
    this.dispatcher = undefined;
  }
}
