// The Vault API test server: node:http(s) on 127.0.0.1, namespaces, token checks, ACL and routing.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DEFAULT_POLICY, allows, grantsAnythingUnder, type Operation, type PolicyRule } from './acl.js';
import { handleLogin, handleTokenSelf } from './auth.js';
import { handleIdentityToken, handleWellKnown, issuerOf } from './identity.js';
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

// Sealed: consts.ErrSealed answered 503 by logical.RespondErrorCommon (openbao sdk/helper/consts/error.go,
// sdk/logical/response_util.go AdjustErrorStatusCode): body {"errors":["Vault is sealed"]}.
const SEALED = 'Vault is sealed';
// Standby texts from http/handler.go (hashicorp/vault, openbao internal/http/handler.go): forwardRequest
// answers 500 when the standby knows no active node; respondStandby answers 503 when it has no leader
// address to redirect to, and 307 with Location on the active node's api_addr otherwise.
const STANDBY_NO_ACTIVE = 'local node not active but active cluster node not found';
const STANDBY_NO_LEADER = 'no active Vault instance found';

/**
 * How a standby node answers: `no-active-node` (500, forwarding found no active node),
 * `no-leader` (503, nothing to redirect to), or a 307 redirect to `redirectTo` (the active
 * node's api_addr), which a client must follow to the same path and query.
 */
export type StandbyMode = 'no-active-node' | 'no-leader' | { redirectTo: string };

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
  /** When set, the node acts as a standby node answering as `StandbyMode` says. */
  standby: StandbyMode | false = false;
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
      // A bug in the server must fail the test that hit it, not leave the client waiting.
      reply = err instanceof VaultHttpError
        ? { status: err.status, body: { errors: err.errors, ...err.extra } }
        : { status: 500, body: { errors: [`vault test server bug: ${String(err)}`] } };
    }
    if (reply.body === undefined) {
      res.writeHead(reply.status, reply.headers ?? {}).end();
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...reply.headers }).end(JSON.stringify(reply.body));
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

  /**
   * A token works in its own namespace and in the namespaces below it (Vault's namespace
   * hierarchy: a parent's token reaches `child/...` paths when its policies grant them).
   */
  private tokenFor(header: string | string[] | undefined, ns: VaultNamespace): TokenRecord | undefined {
    const record = this.tokens.find(typeof header === 'string' ? header : undefined);
    if (!record) return undefined;
    const inside = record.namespace === '' || ns.path === record.namespace || ns.path.startsWith(`${record.namespace}/`);
    return inside ? record : undefined;
  }

  /** The token's policies, which live in the token's own namespace. */
  private rulesOf(token: TokenRecord): PolicyRule[] | 'root' {
    if (token.policies.includes('root')) return 'root';
    const home = this.namespaces.get(token.namespace)!;
    return [...DEFAULT_POLICY, ...token.policies.flatMap((name) => home.state.policies.get(name) ?? [])];
  }

  /** A path as the token's policies name it: child-namespace segments in front when `ns` is below the token's. */
  private static policyPath(token: TokenRecord, ns: VaultNamespace, path: string): string {
    const below = token.namespace === '' ? ns.path : ns.path.slice(token.namespace.length + 1);
    return below ? `${below}/${path}` : path;
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
    if (this.standby === 'no-active-node') throw new VaultHttpError(500, [STANDBY_NO_ACTIVE]);
    if (this.standby === 'no-leader') throw new VaultHttpError(503, [STANDBY_NO_LEADER]);
    if (this.standby) {
      const location = new URL(`${url.pathname}${url.search}`, this.standby.redirectTo).toString();
      return { status: 307, headers: { location } };
    }

    const { ns, path } = this.resolveNamespace(namespaceHeader, rawPath);
    record.namespace = ns.path;
    const body = method === 'GET' || method === 'HEAD' ? {} : await readJson(req);
    const op = operationOf(method, url.searchParams);
    const token = this.tokenFor(req.headers['x-vault-token'], ns);
    const request: VaultRequest = { method, op, path, query: url.searchParams, body, ns, token, tokens: this.tokens, now: this.now };

    // Unauthenticated, like Vault's PathsSpecial for the identity store's .well-known documents.
    const wellKnown = /^identity\/oidc\/\.well-known\/(openid-configuration|keys)$/.exec(path);
    if (wellKnown && op === 'read') return handleWellKnown(wellKnown[1] as 'openid-configuration' | 'keys', ns.state, issuerOf(this.address, ns.path));

    const loginMatch = /^(auth\/.+)\/login$/.exec(path);
    if (loginMatch && loginMatch[1] !== 'auth/token') {
      const mount = ns.state.authMounts.get(loginMatch[1]!);
      if (!mount) throw routeNotFound(path);
      return handleLogin(mount, request);
    }

    if (!token) throw new VaultHttpError(403, ['permission denied']);
    const rules = this.rulesOf(token);
    if (path.startsWith('sys/internal/ui/mounts/')) return this.mountPreflight(ns, path.slice('sys/internal/ui/mounts/'.length), token, rules);
    const found = matchMount(ns.state, path);
    // Only KV has an existence check, so only there may `create` stand in for `update`.
    const existenceCheck = found?.mount.type === 'kv';
    if (rules !== 'root' && !allows(rules, VaultTestServer.policyPath(token, ns, path), op, existenceCheck)) {
      throw new VaultHttpError(403, [PERMISSION_DENIED]);
    }

    const tokenSelf = /^auth\/token\/([^/]+)$/.exec(path);
    if (tokenSelf) return handleTokenSelf(tokenSelf[1]!, request);
    const identityToken = /^identity\/oidc\/token\/([^/]+)$/.exec(path);
    if (identityToken) return handleIdentityToken(identityToken[1]!, request, issuerOf(this.address, ns.path));
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
   * `sys/internal/ui/mounts/<path>`: the vault CLI's KV preflight, after openbao
   * internal/vault/logical_system.go pathInternalUIMountRead. The router matches mounts in child
   * namespaces named at the front of the path; such a mount's `path` then carries its namespace's
   * full path (`admin/team/secret/` for `team/secret/app` asked in namespace `admin`), not what the
   * caller typed. A missing mount or no grant under it is 403 with the preflight's own text.
   */
  private mountPreflight(ns: VaultNamespace, path: string, token: TokenRecord, rules: PolicyRule[] | 'root'): VaultReply {
    const clean = path.replace(/^\/+|\/+$/g, '');
    const refused = new VaultHttpError(403, [`preflight capability check returned 403, please ensure client's policies grant access to path "${clean}/"`]);
    let home = ns;
    let rest = clean;
    for (;;) {
      const [first, ...others] = rest.split('/');
      const child = this.namespaces.get(home.path ? `${home.path}/${first}` : first!);
      if (!child || others.length === 0) break;
      home = child;
      rest = others.join('/');
    }
    const found = matchMount(home.state, rest);
    if (!found) throw refused;
    const { mount } = found;
    if (rules !== 'root' && !grantsAnythingUnder(rules, VaultTestServer.policyPath(token, home, `${mount.path}/`))) throw refused;
    return envelope({
      data: {
        accessor: `${mount.type}_${mount.path.length.toString(16).padStart(8, '0')}`,
        config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
        description: '',
        external_entropy_access: false,
        local: false,
        options: mount.type === 'kv' ? { version: String(mount.version) } : null,
        path: home === ns ? `${mount.path}/` : `${home.path}/${mount.path}/`,
        plugin_version: '',
        running_plugin_version: '',
        seal_wrap: false,
        type: mount.type,
        uuid: '00000000-0000-0000-0000-000000000000',
      },
    });
  }
}
