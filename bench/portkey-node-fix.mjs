// Preload for Portkey's gateway only: works around its known streaming bug on current @hono/node-server
// (Portkey-AI/gateway issues 1389 and 1550, "TypeError: immutable"): fetch responses are re-wrapped so
// their headers are mutable, as the fix proposed upstream does.
const upstreamFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await upstreamFetch(...args);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
};
