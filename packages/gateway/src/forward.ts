// Sends the request to its upstream and streams the answer back as it arrives, reading usage on the way.
//
// The body goes out byte for byte and anthropic-* headers unchanged; the caller's credentials,
// hop-by-hop headers and proxy headers never leave the gateway. A client that goes away aborts
// the upstream request, so an abandoned stream stops costing tokens.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from './context.js';
import { GatewayError, upstreamUnavailable } from './errors.js';
import { JsonUsageTap, SseUsageTap } from './usage/tap.js';

const NOT_FORWARDED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
  'content-length', 'authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'forwarded',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip',
]);
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'set-cookie']);

export function outboundHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in incoming) {
    if (NOT_FORWARDED.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export async function forward(ctx: RequestContext): Promise<void> {
  const upstream = ctx.upstream!;
  const body = ctx.body!;
  const out = await upstream.prepare({ path: ctx.format.upstreamPath(ctx), headers: outboundHeaders(ctx.req.headers), body });
  out.headers['content-length'] = String(out.body.length);

  const abort = new AbortController();
  const onClientGone = () => {
    if (!ctx.res.writableFinished) abort.abort();
  };
  ctx.res.once('close', onClientGone);

  let answer;
  try {
    answer = await upstream.dispatcher.request({
      path: out.path,
      method: 'POST',
      headers: out.headers,
      body: out.body,
      signal: abort.signal,
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    });
  } catch (err) {
    if (abort.signal.aborted) {
      ctx.status = 499; // nginx's "client closed request": nobody is left to answer
      return;
    }
    throw upstreamUnavailable(`Upstream "${upstream.name}" is unreachable.`);
  }
  const status = answer.statusCode;
  ctx.upstreamStatus = status;
  if (status === 401 || status === 403) {
    // Our own upstream key was refused: a 401 here would make Claude Code re-run the user's helper for nothing.
    upstream.credentialRejected();
    await answer.body.dump();
    throw new GatewayError(502, 'api_error', `Upstream "${upstream.name}" refused the gateway's own credential.`);
  }

  const headers: Record<string, string | string[]> = {};
  for (const name in answer.headers) {
    const value = answer.headers[name];
    if (value !== undefined && !NOT_RETURNED.has(name)) headers[name] = value;
  }
  const contentType = String(answer.headers['content-type'] ?? '');
  const tap = contentType.startsWith('text/event-stream') ? new SseUsageTap() : new JsonUsageTap();
  ctx.status = status;
  ctx.usage = tap.usage; // filled in as the answer passes; read when the response closes
  ctx.res.writeHead(status, headers);

  await new Promise<void>((resolve) => {
    const source = answer.body;
    let corked = false;
    const uncork = () => {
      corked = false;
      ctx.res.uncork();
    };
    source.on('data', (chunk: Buffer) => {
      tap.feed(chunk);
      // Held until the end of this tick, so a chunk and the end that follows it leave in one write.
      if (!corked) {
        corked = true;
        ctx.res.cork();
        process.nextTick(uncork);
      }
      if (!ctx.res.write(chunk)) {
        source.pause();
        ctx.res.once('drain', () => source.resume());
      }
    });
    source.once('end', () => {
      if (tap instanceof JsonUsageTap) tap.finish();
      ctx.res.end();
      resolve();
    });
    source.once('error', () => {
      if (!abort.signal.aborted) ctx.errorType = 'upstream_stream_error';
      else ctx.status = 499;
      ctx.res.destroy();
      resolve();
    });
  });
}
