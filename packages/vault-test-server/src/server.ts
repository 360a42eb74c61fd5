// The Vault API test server: node:http(s) on 127.0.0.1, namespaces, token checks, ACL and routing.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DEFAULT_POLICY, allows, grantsAnythingUnder, type Operation, type PolicyRule } from './acl.js';
import { handleLogin, handleTokenSelf } from './auth.js';
import { handleKv } from './kv.js';
import { handleDynamic } from './leases.js';
import { VaultNamespace, matchMount } from './namespace.js';
import type { VaultRequest } from './request.js';
import type { TokenRecord } from './state.js';
import { TokenStore } from './tokens.js';
import { handleTransit } from './transit.js';
import { PERMISSION_DENIED, VaultHttpError, envelope, routeNotFound, type VaultReply } from './wire.js';

export interface VaultTestServerOptions {
  /** The server's clock for token and lease lifetimes; share a test's injected clock here. */
  now?: () => number;
  /** Serve HTTPS with this PEM key and certificate (see `createSelfSignedCert`). */
  tls?: { key: string; cert: string };
}

/** One request as the server saw it, for assertions like "a warm call made no request". */
export interface RecordedRequest {
  method: string;
  /** The path after `/v1/`, as sent (a path-prefixed namespace is still in it). */
  path: string;
  /** The X-Vault-Namespace header, if any. */
  namespaceHeader: string | undefined;
  /** The namespace the request resolved to ('' = root). */
  namespace: string;
  hadToken: boolean;
}

const SEALED = 'Vault is sealed';
const STANDBY = 'local node not active but active cluster node not found';

function operationOf(method: string, query: URLSearchParams): Operation {
  if (method === 'LIST' || (method === 'GET' && query.get('list') === 'true')) return 'list';
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'DELETE') return 'delete';
  return 'update';
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to Vault's parse error below
  }
  throw new VaultHttpError(400, ['failed to parse JSON input: invalid JSON object']);
}

export class VaultTestServer {
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = [];
  /** When true, every endpoint but sys/health and sys/seal-status answers 503 "Vault is sealed". */
  sealed = false;
  /** When true, the node acts as a standby that cannot reach an active node (503). */
  standby = false;
  readonly tokens: TokenStore;
  readonly root: VaultNamespace;
  /** A root token in the root namespace (policy `root`, never expires). */
  readonly rootToken: string;
  address = '';

  private readonly namespaces = new Map<string, VaultNamespace>();
  private readonly server: Server;
  private readonly now: () => number;

  private constructor(opts: VaultTestServerOptions) {
    this.now = opts.now ?? Date.now;
    this.tokens = new TokenStore(this.now);
    this.root = new VaultNamespace('', this.tokens, this.now);
    this.namespaces.set('', this.root);
    this.rootToken = this.root.createToken({ policies: ['root'], ttl: 0, renewable: false });
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
  }

  static async start(opts: VaultTestServerOptions = {}): Promise<VaultTestServer> {
    const instance = new VaultTestServer(opts);
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    const { port } = instance.server.address() as AddressInfo;
    instance.address = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return instance;
  }

  /** The namespace at `path` (e.g. `team-a` or `team-a/dev`), created on first use. */
  namespace(path: string): VaultNamespace {
    const clean = path.replace(/^\/+|\/+$/g, '');
    let ns = this.namespaces.get(clean);
    if (!ns) {
      ns = new VaultNamespace(clean, this.tokens, this.now);
      this.namespaces.set(clean, ns);
    }
    return ns;
  }

  /** How many requests were received, optionally only those whose path matches. */
  count(match?: string | RegExp): number {
    if (match === undefined) return this.requests.length;
    return this.requests.filter((r) => (typeof match === 'string' ? r.path === match : match.test(r.path))).length;
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: VaultReply;
    try {
      reply = await this.route(req);
    } catch (err) {
      if (!(err instanceof VaultHttpError)) throw err;
      reply = { status: err.status, body: { errors: err.errors, ...err.extra } };
    }
    if (reply.body === undefined) {
      res.writeHead(reply.status).end();
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(reply.body));
  }

  /** Splits a path-prefixed namespace (`team-a/secret/data/x`) off the path, after the header's. */
  private resolveNamespace(header: string | undefined, path: string): { ns: VaultNamespace; path: string } {
    let nsPath = (header ?? '').replace(/^\/+|\/+$/g, '');
    if (!this.namespaces.has(nsPath)) throw routeNotFound(path);
    const segments = path.split('/');
    while (segments.length > 1) {
      const candidate = nsPath ? `${nsPath}/${segments[0]}` : segments[0]!;
      if (!this.namespaces.has(candidate)) break;
      nsPath = candidate;
      segments.shift();
    }
    return { ns: this.namespaces.get(nsPath)!, path: segments.join('/') };
  }

  private tokenFor(header: string | string[] | undefined, ns: VaultNamespace): TokenRecord | undefined {
    const record = this.tokens.find(typeof header === 'string' ? header : undefined);
    if (!record) return undefined;
    const rootAnywhere = record.namespace === '' && record.policies.includes('root');
    return record.namespace === ns.path || rootAnywhere ? record : undefined;
  }

  private rulesOf(token: TokenRecord, ns: VaultNamespace): PolicyRule[] | 'root' {
    if (token.policies.includes('root')) return 'root';
    return [...DEFAULT_POLICY, ...token.policies.flatMap((name) => ns.state.policies.get(name) ?? [])];
  }

  private async route(req: IncomingMessage): Promise<VaultReply> {
    const url = new URL(req.url ?? '/', 'http://vault.test');
    const method = req.method ?? 'GET';
    const namespaceHeader = req.headers['x-vault-namespace'] as string | undefined;
    const rawPath = url.pathname.startsWith('/v1/') ? url.pathname.slice(4).replace(/\/+$/, '') : '';
    const record: RecordedRequest = { method, path: rawPath, namespaceHeader, namespace: '', hadToken: !!req.headers['x-vault-token'] };
    this.requests.push(record);
    if (!rawPath) throw new VaultHttpError(404, []);

    if (rawPath === 'sys/health' || rawPath === 'sys/seal-status') return this.health(rawPath);
    if (this.sealed) throw new VaultHttpError(503, [SEALED]);
    if (this.standby) throw new VaultHttpError(503, [STANDBY]);

    const { ns, path } = this.resolveNamespace(namespaceHeader, rawPath);
    record.namespace = ns.path;
    const body = method === 'GET' || method === 'HEAD' ? {} : await readJson(req);
    const op = operationOf(method, url.searchParams);
    const token = this.tokenFor(req.headers['x-vault-token'], ns);
    const request: VaultRequest = { method, op, path, query: url.searchParams, body, ns, token, tokens: this.tokens, now: this.now };

    const loginMatch = /^(auth\/.+)\/login$/.exec(path);
    if (loginMatch && loginMatch[1] !== 'auth/token') {
      const mount = ns.state.authMounts.get(loginMatch[1]!);
      if (!mount) throw routeNotFound(path);
      return handleLogin(mount, request);
    }

    if (!token) throw new VaultHttpError(403, ['permission denied']);
    const rules = this.rulesOf(token, ns);
    if (path.startsWith('sys/internal/ui/mounts/')) return this.mountPreflight(ns, path.slice('sys/internal/ui/mounts/'.length), rules);
    if (rules !== 'root' && !allows(rules, path, op)) throw new VaultHttpError(403, [PERMISSION_DENIED]);

    const tokenSelf = /^auth\/token\/([^/]+)$/.exec(path);
    if (tokenSelf) return handleTokenSelf(tokenSelf[1]!, request);
    const found = matchMount(ns.state, path);
    if (!found) throw routeNotFound(path);
    if (found.mount.type === 'kv') return handleKv(found.mount, found.rest, request);
    if (found.mount.type === 'database') return handleDynamic(found.mount, found.rest, request);
    return handleTransit(found.mount, found.rest, request);
  }

  private health(path: string): VaultReply {
    const body = { initialized: true, sealed: this.sealed, standby: this.standby, version: '1.17.0', cluster_name: 'vault-test-server' };
    if (path === 'sys/seal-status') return { status: 200, body: { type: 'shamir', t: 1, n: 1, progress: 0, ...body } };
    // sys/health's documented codes: 200 active, 429 standby, 503 sealed.
    return { status: this.sealed ? 503 : this.standby ? 429 : 200, body };
  }

  /**
   * `sys/internal/ui/mounts/<path>`: the vault CLI's KV preflight. Answers the mount's type and
   * options (KV's `version`); a missing mount or a token with no grant there reads as 403.
   */
  private mountPreflight(ns: VaultNamespace, path: string, rules: PolicyRule[] | 'root'): VaultReply {
    const found = matchMount(ns.state, path);
    if (!found) throw new VaultHttpError(403, [PERMISSION_DENIED]);
    const { mount } = found;
    if (rules !== 'root' && !grantsAnythingUnder(rules, `${mount.path}/`)) throw new VaultHttpError(403, [PERMISSION_DENIED]);
    return envelope({
      data: {
        accessor: `${mount.type}_${mount.path.length.toString(16).padStart(8, '0')}`,
        config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
        description: '',
        external_entropy_access: false,
        local: false,
        options: mount.type === 'kv' ? { version: String(mount.version) } : null,
        path: `${mount.path}/`,
        plugin_version: '',
        running_plugin_version: '',
        seal_wrap: false,
        type: mount.type,
        uuid: '00000000-0000-0000-0000-000000000000',
      },
    });
  }
}
