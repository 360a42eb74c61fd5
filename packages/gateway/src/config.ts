// The gateway's one config file: a zod schema, YAML loading, env overrides, errors that name the field.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { ConfigError } from '@claude-key/core';
import { SYNC_INTERVAL_MS } from './store/journal-defaults.js';

const algorithm = z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

const claimsSchema = z
  .object({
    user: z.string().default('sub').describe('Claim path of the user id (dots walk into objects).'),
    team: z.string().default('team').describe('Claim path of the team; an array (groups) picks its first known team.'),
    groups: z.string().optional().describe('Claim path of a groups array, used when the team claim is absent.'),
  })
  .strict();

const issuerSchema = z
  .object({
    issuer: z.string().min(1).describe('Expected `iss`.'),
    audience: z.union([z.string(), z.array(z.string())]).describe('Expected `aud`.'),
    jwksFile: z.string().optional().describe('Local JWKS file, e.g. what `claude-key jwt jwks` prints.'),
    jwksUrl: z.string().url().optional().describe('JWKS URL, cached; unknown kid refetches at most once per cooldown.'),
    discovery: z.boolean().default(false).describe('Find jwks_uri through OIDC discovery on the issuer.'),
    algorithms: z.array(algorithm).min(1).default(['ES256', 'RS256', 'EdDSA', 'Ed25519']),
    claims: claimsSchema.default({ user: 'sub', team: 'team' }),
    jwksCooldownMs: z.number().int().nonnegative().default(30_000),
    trust: z
      .enum(['openid', 'enrolled', 'service'])
      .default('openid')
      .describe(
        'openid: an OpenID Provider, its claims authoritative; enrolled: per-user keys from the gateway registry, a token is its key\'s user; service: a shared key pinned to `subjects` and `teams`.',
      ),
    clientId: z.string().min(1).optional().describe('openid issuers: the public client id developers log in with (`claude-key oidc --client-id`), published at /.well-known/claude-key.'),
    approveEnrollment: z
      .boolean()
      .default(false)
      .describe('openid issuers: an enrollment carrying a valid token of this issuer is approved at once, for that token\'s user and teams.'),
    subjects: z.array(z.string().min(1)).optional().describe('service issuers: subject globs the issuer may assert.'),
    teams: z.array(z.string().min(1)).optional().describe('service issuers: teams the issuer may assert.'),
    maxLifetimeSeconds: z
      .number()
      .int()
      .positive()
      .default(86_400)
      .describe('Longest accepted token lifetime (exp - iat); a token without iat, or living longer, is refused.'),
  })
  .strict()
  .superRefine((i, ctx) => {
    const sources = [i.jwksFile, i.jwksUrl, i.discovery ? 'x' : undefined].filter(Boolean).length;
    if (i.trust === 'enrolled' && sources !== 0) {
      ctx.addIssue({ code: 'custom', message: 'an enrolled issuer takes its keys from the gateway registry: no jwksFile, jwksUrl or discovery' });
    }
    if (i.trust !== 'enrolled' && sources !== 1) ctx.addIssue({ code: 'custom', message: 'set exactly one of jwksFile, jwksUrl or discovery: true' });
    if (i.trust === 'service' && (!i.subjects?.length || !i.teams?.length)) {
      ctx.addIssue({ code: 'custom', message: 'a service issuer must list the subjects and teams it may assert' });
    }
    if (i.approveEnrollment && i.trust !== 'openid') ctx.addIssue({ code: 'custom', message: 'only an OpenID Provider can prove who enrolls a key' });
    if (i.trust !== 'service' && (i.subjects || i.teams)) {
      ctx.addIssue({ code: 'custom', message: 'subjects and teams pin service issuers only' });
    }
  });

const adminSchema = z.union(
  [
    z.object({ source: z.string().min(1).describe('An issuer (iss).'), subject: z.string().min(1).describe('The user that source asserts.') }).strict(),
    z.object({ source: z.string().min(1), group: z.string().min(1).describe('A group in the token\'s groups claim.') }).strict(),
    z.object({ apiKey: z.string().min(1).describe('An auth.apiKeys id.') }).strict(),
  ],
  { error: 'name an identity: {source, subject}, {source, group} or {apiKey}; a bare user name could be asserted by any issuer' },
);

const apiKeySchema = z
  .object({
    id: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the key'),
    user: z.string().min(1),
    team: z.string().min(1),
  })
  .strict();

const failMode = z.enum(['open', 'closed']);

const policySchema = z
  .object({
    models: z.array(z.string()).optional().describe('Allowed model globs, e.g. claude-sonnet-*.'),
    dailyUsd: z.number().positive().optional(),
    monthlyUsd: z.number().positive().optional(),
    requestsPerMinute: z.number().int().positive().optional(),
    tokensPerMinute: z.number().int().positive().optional(),
    failMode: z
      .object({ budgets: failMode.optional(), limits: failMode.optional() })
      .strict()
      .optional()
      .describe('When Redis is unavailable: open = count in process and reconcile later; closed = refuse with 503. Default redis.failMode.'),
  })
  .strict();

const credentialHeader = z.enum(['authorization', 'x-api-key', 'proxy-authorization']);
const timeoutMs = z.number().int().positive().default(600_000).describe('Time allowed for the answer headers, and between body chunks.');
const maxInFlight = z.number().int().positive().default(256).describe('Answers in flight to this upstream at most; past it the client gets its overload error (529) at once.');
const upstreamSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('mock'),
      url: z.string().url().optional().describe('A standalone mock; omitted = embedded.'),
      timeoutMs,
      maxInFlight,
    })
    .strict(),
  z
    .object({
      type: z.literal('anthropic'),
      url: z.string().url().default('https://api.anthropic.com'),
      apiKey: z.string().min(1).describe('Reference: env:NAME, file:/path, profile:NAME (claude-key), or a literal.'),
      timeoutMs,
      maxInFlight,
    })
    .strict(),
  z
    .object({
      type: z.literal('bedrock'),
      region: z.string().min(1).describe('AWS region, e.g. us-east-1; also the SigV4 signing region.'),
      endpoint: z.string().url().optional().describe('Bedrock Runtime URL; default https://bedrock-runtime.<region>.amazonaws.com.'),
      profile: z.string().optional().describe('AWS profile for the credential chain; default: the chain as the AWS SDK reads it.'),
      timeoutMs,
      maxInFlight,
    })
    .strict(),
  z
    .object({
      type: z.literal('vertex'),
      project: z.string().min(1).describe('Google Cloud project id.'),
      region: z.string().min(1).describe('Vertex location, e.g. us-east5 or global.'),
      endpoint: z.string().url().optional().describe('Vertex URL up to /v1; default the regional aiplatform.googleapis.com host.'),
      credentials: z
        .enum(['gateway', 'passthrough'])
        .default('gateway')
        .describe("gateway: the gateway's own Google credentials (ADC or keyFile); passthrough: the caller's Authorization goes upstream."),
      keyFile: z.string().optional().describe('Service-account or authorized-user JSON; default Application Default Credentials.'),
      tokenUrl: z.string().url().optional().describe('OAuth 2.0 token endpoint override (private Google endpoints); default Google\'s.'),
      timeoutMs,
      maxInFlight,
    })
    .strict(),
]);
const deploymentSchema = z
  .object({
    upstream: z.string().min(1),
    model: z.string().min(1).describe("The upstream's id for the model (Bedrock id, Vertex name, Anthropic name)."),
    weight: z.number().int().min(0).default(1).describe('Share of traffic; 0 = used only as a fallback.'),
  })
  .strict();
const modelGroupSchema = z
  .object({
    name: z.string().min(1).describe('Group name; policies.models globs match it.'),
    aliases: z.array(z.string().min(1)).default([]).describe('Other client spellings (Bedrock ids and Vertex names reduce to the same key already).'),
    deployments: z.array(deploymentSchema).min(1),
  })
  .strict();
export const configSchema = z
  .object({
    listen: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        headersTimeoutMs: z.number().int().positive().default(15_000).describe('Time a client has to send all request headers (slowloris bound).'),
        requestTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(300_000)
          .describe('Time a client has to send the whole request (headers and body); answers may stream for longer.'),
        maxHeaderBytes: z.number().int().min(16_384).default(65_536).describe('Largest request head; OIDC tokens with big group claims need tens of KiB.'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, headersTimeoutMs: 15_000, requestTimeoutMs: 300_000, maxHeaderBytes: 65_536 }),
    metrics: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).optional().describe('A listener of its own for GET /metrics; without it /metrics needs an admin credential.'),
      })
      .strict()
      .default({ host: '127.0.0.1' }),
    maxBodyBytes: z.number().int().positive().default(32 * 1024 * 1024),
    shutdownTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(25_000)
      .describe('On SIGTERM, how long in-flight requests may take before their connections are cut (their records are still written).'),
    auth: z
      .object({
        headers: z.array(credentialHeader).min(1).default(['authorization', 'x-api-key']),
        vertexHeaders: z
          .array(credentialHeader)
          .min(1)
          .optional()
          .describe('Credential headers for Vertex-format requests, e.g. [proxy-authorization] when Authorization carries the caller GCP token.'),
        clockSkewSeconds: z.number().int().min(0).max(300).default(30),
        issuers: z.array(issuerSchema).default([]),
        apiKeys: z.array(apiKeySchema).default([]),
        revoked: z.array(z.string()).default([]).describe('Revoked jti values and API key ids.'),
        admins: z.array(adminSchema).default([]).describe('Identities allowed to call /admin/* and /metrics.'),
        enrollment: z
          .object({
            keyLifetimeDays: z.number().int().positive().default(90).describe('An enrolled key expires this long after approval.'),
            maxPending: z.number().int().positive().default(1000).describe('Enrollment requests waiting for an admin; more are refused (503).'),
          })
          .strict()
          .default({ keyLifetimeDays: 90, maxPending: 1000 }),
        trustPollMs: z
          .number()
          .int()
          .positive()
          .default(5_000)
          .describe('Backstop reload of enrolled keys and revocations; changes normally arrive at once (PostgreSQL NOTIFY).'),
      })
      .strict()
      .default({
        headers: ['authorization', 'x-api-key'],
        clockSkewSeconds: 30,
        issuers: [],
        apiKeys: [],
        revoked: [],
        admins: [],
        enrollment: { keyLifetimeDays: 90, maxPending: 1000 },
        trustPollMs: 5_000,
      }),
    upstreams: z.record(z.string(), upstreamSchema).default({ mock: { type: 'mock', timeoutMs: 600_000, maxInFlight: 256 } }),
    routes: z
      .array(z.object({ model: z.string(), upstream: z.string() }).strict())
      .default([{ model: '*', upstream: 'mock' }])
      .describe('First match wins; model is a glob. Used for models no group in `models` claims.'),
    models: z.array(modelGroupSchema).default([]).describe('Model groups: every client spelling of a model reaches its deployments.'),
    retry: z
      .object({
        attempts: z.number().int().min(1).max(10).default(3).describe('Tries per request, across deployments, before the first byte is sent.'),
        backoffMs: z.number().int().min(0).default(200).describe('Wait before the second try; doubles after each.'),
      })
      .strict()
      .default({ attempts: 3, backoffMs: 200 }),
    formats: z
      .object({
        bedrockPrefix: z.string().regex(/^\/[^?#]*[^/]$/, 'must start with / and not end with /').default('/bedrock'),
        vertexPrefix: z.string().regex(/^\/[^?#]*[^/]$/, 'must start with / and not end with /').default('/vertex_ai/v1'),
        anthropicPrefix: z.string().regex(/^\/[^?#]*[^/]$/, 'must start with / and not end with /').default('/anthropic'),
        region: z.string().default('us-east-1').describe('Region shown in Bedrock inference-profile ARNs.'),
      })
      .strict()
      .default({ bedrockPrefix: '/bedrock', vertexPrefix: '/vertex_ai/v1', anthropicPrefix: '/anthropic', region: 'us-east-1' }),
    policies: z
      .object({
        defaults: policySchema.default({}),
        teams: z.record(z.string(), policySchema).default({}),
        users: z.record(z.string(), policySchema).default({}),
      })
      .strict()
      .default({ defaults: {}, teams: {}, users: {} }),
    store: z
      .object({
        url: z.string().optional().describe('postgres://… ; unset = embedded store.'),
        path: z.string().default('./claude-key-gateway-data').describe('Embedded store directory, or memory://.'),
        engine: z
          .enum(['sqlite', 'pglite'])
          .optional()
          .describe('Embedded store: sqlite (default; a directory holding a PGlite database keeps pglite) or pglite.'),
        flushIntervalMs: z.number().int().positive().default(250),
        batchSize: z.number().int().positive().default(500),
        journal: z
          .string()
          .optional()
          .describe('Directory of the local record journal; default <path>-journal (none for memory://); "off" disables it.'),
        journalSync: z
          .enum(['fsync', 'write'])
          .default('write')
          .describe(
            'write (default): an answer ends once its record is in the kernel, fdatasync\'d in the background (survives a killed process or a store outage; a power cut can lose the last journalSyncIntervalMs); fsync: once it is on disk (survives a power cut; costs the disk\'s fsync on every answer).',
          ),
        journalSyncIntervalMs: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(SYNC_INTERVAL_MS)
          .describe('journalSync: write: the longest a written record waits for the background fdatasync that puts it on disk (what a power cut can lose). Lower costs CPU: one fdatasync per interval under load.'),
        maxQueuedRecords: z
          .number()
          .int()
          .positive()
          .default(50_000)
          .describe('Records held in memory at most while the store is down; past it they wait in the journal only.'),
        closeTimeoutMs: z.number().int().nonnegative().default(5000).describe('On shutdown, how long to keep retrying an unavailable store.'),
      })
      .strict()
      .default({ path: './claude-key-gateway-data', flushIntervalMs: 250, batchSize: 500, journalSync: 'write', journalSyncIntervalMs: SYNC_INTERVAL_MS, maxQueuedRecords: 50_000, closeTimeoutMs: 5000 }),
    redis: z
      .object({
        url: z.string().optional(),
        failMode: failMode.default('open').describe('Default for every budget and limit when Redis is unavailable.'),
        commandTimeoutMs: z.number().int().positive().default(250).describe('A Redis command slower than this counts as Redis unavailable.'),
      })
      .strict()
      .default({ failMode: 'open', commandTimeoutMs: 250 }),
    audit: z
      .object({
        includeContent: z.boolean().default(false),
        checkpoints: z
          .object({
            dir: z.string().describe('Where signed checkpoint files go (ship it to WORM storage).'),
            keyFile: z.string().describe('Ed25519 private key (PKCS#8 PEM), outside the database; created with a .pub beside it if absent.'),
            publicKeyFile: z.string().optional().describe('For `audit verify` where the private key is not at hand.'),
            everyRecords: z.number().int().positive().default(1000),
            everyMs: z.number().int().positive().default(60_000),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ includeContent: false }),
    console: z
      .object({
        enabled: z.boolean().default(false).describe('Serve the admin console at /console/ (admins only).'),
        sessionMinutes: z.number().int().positive().default(480).describe('A console session ends this long after sign-in.'),
        idleMinutes: z.number().int().positive().default(30).describe('...or after this long without a request.'),
        secureCookie: z
          .boolean()
          .optional()
          .describe('Mark the session cookie Secure; default: when the connection is TLS or X-Forwarded-Proto says https. true or false forces it.'),
        login: z
          .object({
            issuer: z.string().min(1).describe('An OpenID Provider in auth.issuers (trust: openid) to sign admins in with.'),
            clientId: z.string().min(1).describe('The console\'s client at that provider: a public client, authorization code with PKCE.'),
            redirectUri: z.string().url().describe('Registered at the provider: this gateway\'s public URL + /console/api/login/callback.'),
            scope: z.string().default('openid profile').describe('Scopes to ask for; add what makes the provider put team or groups claims in the ID token.'),
          })
          .strict()
          .optional()
          .describe('OIDC login (authorization code + PKCE) besides pasting a token.'),
      })
      .strict()
      .default({ enabled: false, sessionMinutes: 480, idleMinutes: 30 }),
    claudeKey: z.object({ binary: z.string().default('claude-key') }).strict().default({ binary: 'claude-key' }),
    log: z.object({ level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info') }).strict().default({ level: 'info' }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const login = cfg.console.login;
    if (login && !cfg.auth.issuers.some((i) => i.issuer === login.issuer && i.trust === 'openid')) {
      ctx.addIssue({ code: 'custom', path: ['console', 'login', 'issuer'], message: `"${login.issuer}" is not an OpenID Provider in auth.issuers` });
    }
    cfg.routes.forEach((route, i) => {
      if (!cfg.upstreams[route.upstream]) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstream'], message: `unknown upstream "${route.upstream}"` });
      }
    });
    cfg.models.forEach((group, i) =>
      group.deployments.forEach((d, j) => {
        if (!cfg.upstreams[d.upstream]) ctx.addIssue({ code: 'custom', path: ['models', i, 'deployments', j, 'upstream'], message: `unknown upstream "${d.upstream}"` });
      }),
    );
  });

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
export type Policy = z.output<typeof policySchema>;
export type IssuerConfig = z.output<typeof issuerSchema>;
export type AdminConfig = z.output<typeof adminSchema>;
export type ApiKeyConfig = z.output<typeof apiKeySchema>;
export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type ModelGroupConfig = z.output<typeof modelGroupSchema>;

/** Validates a config object; the error names the first bad field by its dotted path. */
export function parseConfig(raw: unknown, source = 'config'): GatewayConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  throw new ConfigError(`${source}: ${path}: ${issue.message}`, { hint: 'see the config reference in the gateway README' });
}

/** Environment variables that override the file, so one image runs in every environment. */
function applyEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): Record<string, any> {
  const out = { ...raw };
  if (env.DATABASE_URL) out.store = { ...(out.store ?? {}), url: env.DATABASE_URL };
  if (env.REDIS_URL) out.redis = { ...(out.redis ?? {}), url: env.REDIS_URL };
  if (env.PORT) out.listen = { ...(out.listen ?? {}), port: Number(env.PORT) };
  if (env.HOST) out.listen = { ...(out.listen ?? {}), host: env.HOST };
  if (env.CLAUDE_KEY_GATEWAY_LOG_LEVEL) out.log = { ...(out.log ?? {}), level: env.CLAUDE_KEY_GATEWAY_LOG_LEVEL };
  if (env.CLAUDE_KEY_BINARY) out.claudeKey = { ...(out.claudeKey ?? {}), binary: env.CLAUDE_KEY_BINARY };
  return out;
}

/** Loads a YAML file (or nothing: all defaults), applies env overrides, resolves relative paths. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let raw: unknown = {};
  const base = file ? dirname(resolve(file)) : process.cwd();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`cannot read config file ${file}`, { hint: 'check the --config path' });
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: the top level must be a mapping`);
  }
  const cfg = parseConfig(applyEnv(raw as Record<string, any>, env), file ?? 'config');
  for (const issuer of cfg.auth.issuers) if (issuer.jwksFile) issuer.jwksFile = resolve(base, issuer.jwksFile);
  for (const up of Object.values(cfg.upstreams)) if (up.type === 'vertex' && up.keyFile) up.keyFile = resolve(base, up.keyFile);
  if (!cfg.store.path.startsWith('memory://')) cfg.store.path = resolve(base, cfg.store.path);
  if (cfg.store.journal && cfg.store.journal !== 'off') cfg.store.journal = resolve(base, cfg.store.journal);
  const cp = cfg.audit.checkpoints;
  if (cp) {
    cp.dir = resolve(base, cp.dir);
    cp.keyFile = resolve(base, cp.keyFile);
    if (cp.publicKeyFile) cp.publicKeyFile = resolve(base, cp.publicKeyFile);
  }
  return cfg;
}
