// `init --gateway URL`: onboards a developer to a claude-key-gateway in one command.
//
// Reads what the gateway publishes (/.well-known/claude-key), makes sure a local `jwt` key exists,
// enrolls it (approved at once when a login proves who is asking), writes Claude Code's settings
// with `jwt` as the apiKeyHelper, and checks one authenticated request (count_tokens: no cost).
import { ConfigError, NotFoundError, UnreachableError, UsageError } from '../errors.js';
import type { Provider } from '../provider.js';
import { runInit, type InitOptions } from './init.js';
import { commandIO, type RunContext } from './run.js';
import { shellQuote } from './shell-quote.js';

export interface GatewayInitOptions extends InitOptions {
  gateway: string;
  team?: string;
  user?: string;
  login?: string;
}

interface Published {
  enrollment?: { issuer: string; audience: string | string[]; endpoint: string }[];
}

interface Enrolled {
  kid: string;
  status: 'pending' | 'active';
  user: string;
  teams: string[];
  issuer: string;
  audience: string | string[];
}

async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new UnreachableError(`cannot reach ${url} (${(err as Error).message})`);
  }
  if (!res.ok) throw new UnreachableError(`${url} answered HTTP ${res.status}`, { hint: 'is this a claude-key-gateway?' });
  return res.json();
}

export async function runGatewayInit(ctx: RunContext, opts: GatewayInitOptions): Promise<void> {
  const { io, spec } = ctx;
  let base: URL;
  try {
    base = new URL(opts.gateway);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new UsageError(`--gateway "${opts.gateway}" is not an http(s) URL`);
  }
  const gateway = base.href.replace(/\/$/, '');
  const published = (await getJson(`${gateway}/.well-known/claude-key`)) as Published;
  const issuer = published.enrollment?.[0];
  if (!issuer) throw new ConfigError(`${gateway} publishes no enrolled-key issuer`, { hint: 'ask the gateway admins for another way in (an OIDC or API-key profile)' });
  const audience = Array.isArray(issuer.audience) ? issuer.audience[0]! : issuer.audience;
  if (!ctx.registry.has('jwt')) throw new UsageError(`init --gateway needs the jwt provider, which ${spec.name} does not have`);
  const jwt = await ctx.registry.load('jwt');

  const enrolled = await enroll(ctx, jwt, gateway, opts);
  const team = opts.team ?? enrolled.teams[0];
  const helper = [spec.name, 'jwt', '--iss', issuer.issuer, '--aud', audience, '--sub', enrolled.user, ...(team ? ['--team', team] : [])];
  await runInit(ctx, { ...opts, helper: shellQuote(helper), baseUrl: gateway, ttlMs: opts.ttlMs ?? '900000', yes: true });

  // One real request with a freshly minted token, as Claude Code will send it.
  const options = jwt.options.parse({ iss: issuer.issuer, aud: audience, sub: enrolled.user, ...(team ? { team } : {}) });
  const { token } = await jwt.fetch(options, commandIO(ctx, jwt).context);
  let status: number;
  try {
    const res = await fetch(`${gateway}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello' }] }),
      signal: AbortSignal.timeout(30_000),
    });
    status = res.status;
    await res.arrayBuffer();
  } catch (err) {
    throw new UnreachableError(`the check request to ${gateway} failed (${(err as Error).message})`);
  }
  if (status === 200) return void io.stdout(`checked: ${gateway} accepts the token of ${enrolled.user}${team ? ` (team ${team})` : ''}\n`);
  if (enrolled.status === 'pending') {
    return void io.stdout(`key ${enrolled.kid} waits for approval; ask a gateway admin to run: claude-key-gateway keys approve ${enrolled.kid}\n`);
  }
  throw new UnreachableError(`the gateway answered the check request with HTTP ${status}`, { hint: 'the settings are written; ask the gateway admins' });
}

/** Enrolls the active local key, creating one first when there is none. */
async function enroll(ctx: RunContext, jwt: Provider, gateway: string, opts: GatewayInitOptions): Promise<Enrolled> {
  const command = (name: string) => {
    const c = jwt.commands?.[name];
    if (!c) throw new UsageError(`the jwt provider has no "${name}" command`);
    return c;
  };
  const values = { gateway, json: true, ...(opts.user ? { user: opts.user } : {}), ...(opts.team ? { team: [opts.team] } : {}), ...(opts.login ? { login: opts.login } : {}) };
  const run = async () => {
    let out = '';
    await command('enroll').run(command('enroll').options.parse(values), commandIO(ctx, jwt, (t) => (out += t)));
    return JSON.parse(out) as Enrolled;
  };
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    // No key yet: make one (its public JWKS is not needed here, the gateway learns the key by enrollment).
    await command('keygen').run(command('keygen').options.parse({}), commandIO(ctx, jwt, () => {}));
    return run();
  }
}
