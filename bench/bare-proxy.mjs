// The floor for any Node reverse proxy on this machine: read the body, send it upstream with undici,
// pass the answer back. No authentication, no parsing, no records, no metrics, no logs. The gateway
// benchmark runs it beside the gateway so that the added latency of a Node hop alone is measured in
// the same run as the gateway's, and the gateway's own share can be told apart from the machine's.
//
//   node bench/bare-proxy.mjs PORT UPSTREAM_ORIGIN
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const requireGw = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../packages/gateway/package.json'));
const { Pool } = requireGw('undici');
const [port, upstream] = [Number(process.argv[2]), process.argv[3]];
const pool = new Pool(upstream, { connections: 256 });

createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'bench', 'content-length': String(body.length) };
    const answer = await pool.request({ path: req.url, method: req.method, headers, body });
    res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] ?? 'application/octet-stream' });
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch {
    res.destroy();
  }
}).listen(port, '127.0.0.1');
