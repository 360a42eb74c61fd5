// Sends the request to its deployments in turn and streams the first good answer back, translated
// into the client's wire format, reading usage on the way.
//
// api-formats builds each upstream request (model in path or body, anthropic_version, betas);
// the upstream adds its own credentials. A 429, 5xx, 529 or timeout moves on to the next
// deployment, but only while nothing has been sent to the client: once the first byte is out, an
// upstream failure becomes an error event (SSE) or exception message (event stream) instead.
// A client that goes away aborts the upstream request, so an abandoned stream stops costing tokens.
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import {
  ApiError,
  buildUpstreamRequest,
  createEventStreamToSse,
  createStreamTranslator,
  encodeException,
  encodeSseError,
  isRetryable,
  parseUpstreamError,
  planResponse,
  translateJsonBody,
  type UpstreamRequest,
} from '@claude-key/api-formats';
import { ClaudeKeyError } from '@claude-key/core';
import type { RequestContext } from './context.js';
import type { Target } from './routing.js';
import { relay } from './answer-stream.js';
import { ClientGone, UpstreamAnswer } from './upstream-answer.js';
import { JsonUsageTap, SseUsageTap } from './usage/tap.js';

// Client headers an Anthropic-shaped upstream may see; credentials and proxy headers never leave.
const NOT_FORWARDED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
  'content-length', 'authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'forwarded',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip',
]);

export function outboundHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in incoming) {
    if (NOT_FORWARDED.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Waits `ms`; false if the client went away meanwhile. */
function pause(ms: number, gone: ClientGone): Promise<boolean> {
  if (gone.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      gone.off('abort', done);
      resolve(!gone.aborted);
    };
    const timer = setTimeout(done, ms);
    gone.once('abort', done);
  });
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export async function forward(ctx: RequestContext, retry: RetryPolicy): Promise<void> {
  const targets = ctx.routing!.targets;
  const gone = new ClientGone();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) gone.abort();
  });
  let lastError: ApiError | undefined;
  for (let attempt = 0; attempt < Math.max(retry.attempts, 1); attempt++) {
    const target = targets[attempt % targets.length]!;
    // A different deployment is tried at once; the same one again only after a growing pause.
    const round = Math.floor(attempt / targets.length);
    if (round > 0 && retry.backoffMs > 0) {
      if (!(await pause(retry.backoffMs * 2 ** (round - 1), gone))) break;
    }
    ctx.upstream = target.upstream;
    ctx.deployment = target.name;
    const outcome = await send(ctx, target, gone);
    if (gone.aborted) break;
    if (!(outcome instanceof ApiError)) {
      if (attempt > 0) ctx.fellBackFrom = targets[0]!.name;
      return deliver(ctx, target, outcome, gone);
    }
    lastError = outcome;
    if (!isRetryable(outcome)) break;
  }
  if (gone.aborted) {
    ctx.status = 499; // nginx's "client closed request": nobody is left to answer
    return;
  }
  throw lastError!;
}

/** One attempt: the upstream's answer with a 2xx status, or why it failed (nothing sent to the client yet). */
async function send(ctx: RequestContext, target: Target, signal: ClientGone): Promise<UpstreamAnswer | ApiError> {
  const { upstream } = target;
  let request: UpstreamRequest = buildUpstreamRequest(ctx.canonical!, upstream.deployment(target.model));
  // Anthropic-shaped upstreams also get the client's other headers (x-app, session ids), as the API would.
  if (upstream.kind === 'anthropic' || upstream.kind === 'mock') {
    request.headers = { ...outboundHeaders(ctx.req.headers), ...request.headers };
    // Messages in, Messages out: the query (Claude Code's ?beta=true) is kept as sent.
    const query = ctx.format === 'anthropic' ? ctx.req.url!.indexOf('?') : -1;
    if (query !== -1) request.url += ctx.req.url!.slice(query);
  }
  try {
    request = await upstream.authorize(request, ctx.req.headers);
  } catch (err) {
    if (err instanceof ApiError) return err;
    // The gateway's own cloud credentials are missing or refused: our problem, never a 401 to the caller.
    // Only claude-key's own one-line messages are shown; they never carry a secret.
    const reason = err instanceof ClaudeKeyError ? ` (${err.message})` : '';
    return new ApiError(502, 'api_error', `Upstream "${upstream.name}": the gateway's own credentials are unavailable${reason}.`);
  }
  if (upstream.inFlight && !upstream.inFlight.tryAcquire()) {
    return new ApiError(529, 'overloaded_error', `Upstream "${upstream.name}" has ${upstream.inFlight.max} answers in flight, its configured maximum.`);
  }
  // The slot is held until this attempt fails or the client's connection closes (the answer is done).
  let held = !!upstream.inFlight;
  const release = () => {
    if (held) upstream.inFlight!.release();
    held = false;
  };
  ctx.res.once('close', release);
  const outcome = await dispatch(ctx, upstream, request, signal);
  if (outcome instanceof ApiError) {
    ctx.res.off('close', release);
    release();
  }
  return outcome;
}

async function dispatch(ctx: RequestContext, upstream: Target['upstream'], request: UpstreamRequest, signal: ClientGone): Promise<UpstreamAnswer | ApiError> {
  const url = upstreamTarget(request.url);
  const { host: _host, ...headers } = request.headers;
  headers['content-length'] = String(request.body.length);
  const options = { path: url.path, method: 'POST' as const, headers, body: request.body, headersTimeout: upstream.timeoutMs, bodyTimeout: upstream.timeoutMs };
  let answer: UpstreamAnswer;
  try {
    answer = await new Promise<UpstreamAnswer>((resolve, reject) => {
      const handler = new UpstreamAnswer(signal, ctx.canonical!.stream, (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
      upstream.dispatcher(url.origin).dispatch(options, handler);
    });
  } catch (err) {
    return failure(upstream.name, upstream.timeoutMs, err);
  }
  ctx.upstreamStatus = answer.statusCode;
  if (answer.statusCode >= 200 && answer.statusCode < 300) return answer;
  const error = parseUpstreamError(upstream.kind, answer.statusCode, answer.headers, answer.raw);
  const refused = error.status === 401 || error.status === 403;
  if (refused && !upstream.callerCredentials) {
    // Our own key was refused: a 401 here would make Claude Code re-run the user's helper for nothing.
    upstream.credentialRejected();
    return new ApiError(502, 'api_error', `Upstream "${upstream.name}" refused the gateway's own credential.`);
  }
  return error;
}

/**
 * An upstream URL's origin (which pool) and path. Upstream URLs come from the config and the
 * model, so a handful of distinct strings repeat for every request: each is parsed once.
 */
const parsedTargets = new Map<string, { origin: string; path: string }>();
function upstreamTarget(href: string): { origin: string; path: string } {
  let target = parsedTargets.get(href);
  if (target === undefined) {
    const url = new URL(href);
    target = { origin: url.origin, path: url.pathname + url.search };
    if (parsedTargets.size >= 1024) parsedTargets.clear(); // a client varying its query must not grow this
    parsedTargets.set(href, target);
  }
  return target;
}

function failure(name: string, timeoutMs: number, err: unknown): ApiError {
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new ApiError(504, 'timeout_error', `Upstream "${name}" did not answer within ${timeoutMs} ms.`);
  }
  return new ApiError(502, 'api_error', `Upstream "${name}" is unreachable.`);
}

/** Writes a good answer to the client in its own format. From here on there is no fallback. */
async function deliver(ctx: RequestContext, target: Target, answer: UpstreamAnswer, signal: ClientGone): Promise<void> {
  const canonical = ctx.canonical!;
  const kind = target.upstream.kind;
  const plan = planResponse(canonical, kind);
  const headers: Record<string, string> = { 'content-type': plan.contentType };
  const requestId = answer.headers['request-id'] ?? answer.headers['x-amzn-requestid'];
  if (typeof requestId === 'string') headers['request-id'] = requestId;
  ctx.status = answer.statusCode;

  if (answer.body === undefined) {
    const raw = answer.raw;
    const tap = new JsonUsageTap();
    tap.feed(raw);
    tap.finish();
    ctx.usage = tap.usage;
    ctx.res.writeHead(answer.statusCode, headers);
    ctx.res.end(translateJsonBody(canonical, kind, raw));
    return;
  }

  const tap = new SseUsageTap();
  ctx.usage = tap.usage; // filled in as the answer passes; read when the response closes
  const source = answer.body;
  const translator = createStreamTranslator(plan);
  let output: Readable = source;
  let tapOutput = canonical.format !== 'bedrock'; // the client's side is SSE
  let sideTap: ReturnType<typeof createEventStreamToSse> | undefined;
  if (translator) {
    if (canonical.format === 'bedrock') source.on('data', (chunk: Buffer) => tap.feed(chunk)); // SSE in, events out
    // A failure on either side destroys the other: the upstream body is released if the translator fails.
    output = pipeline(source, translator, () => undefined);
  } else if (kind === 'bedrock') {
    // Event stream in and out: usage is read from a side copy decoded to SSE.
    sideTap = createEventStreamToSse();
    sideTap.on('data', (chunk: Buffer) => tap.feed(chunk));
    sideTap.on('error', () => {});
    tapOutput = false;
  }
  ctx.res.writeHead(answer.statusCode, headers);
  const res = ctx.res;
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  // The answer as the client gets it: chunks are usage-counted as they pass (so a client that leaves
  // mid-answer is charged for what it was sent), and an upstream failure once bytes are out becomes
  // an error in the client's framing, ending the answer normally. A client that goes away destroys
  // the upstream body (releasing its connection); either way nothing is left half open.
  try {
    await relay(output, res, {
      chunk(chunk) {
        if (tapOutput) tap.feed(chunk);
        sideTap?.write(chunk);
        // Writes are held until the loop has handled every event of this turn (setImmediate runs
        // after them), so chunks that arrived together, and the end that follows the last of them,
        // leave in one write: one packet and one wake-up for the client instead of several.
        if (!corked) {
          corked = true;
          res.cork();
          setImmediate(uncork);
        }
      },
      end: () => sideTap?.end(),
      failure(err) {
        if (signal.aborted || res.destroyed) return undefined;
        const error = err instanceof ApiError ? err : failure(target.upstream.name, target.upstream.timeoutMs, err);
        ctx.errorType = error.type;
        return Buffer.from(canonical.format === 'bedrock' ? encodeException(error) : encodeSseError(error));
      },
    });
  } catch {
    ctx.status = 499; // the client went away before the answer ended
  }
}
