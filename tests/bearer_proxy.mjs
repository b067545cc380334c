// A reverse proxy that adds `Authorization: Bearer <token>` to every request, for clients that
// cannot send one themselves (the MCP conformance suite, tests/test_conformance.py). Everything
// else goes through as it came: method, path, headers (Host and Origin included, so that the
// server's DNS-rebinding checks see what the client sent), bodies, and answers streamed back
// chunk by chunk (SSE included).
//
//   BEARER_PROXY_TOKEN=... node tests/bearer_proxy.mjs http://127.0.0.1:UPSTREAM_PORT [LISTEN_PORT]
//
// Listens on 127.0.0.1 (port 0: any free one) and prints one JSON line {"port": N} once it does.
// The token comes from the environment, not the command line (which `ps` shows).
import http from 'node:http';

const [target, listenPort = '0'] = process.argv.slice(2);
const token = process.env.BEARER_PROXY_TOKEN;
if (!target || !token) {
  process.stderr.write('usage: BEARER_PROXY_TOKEN=... node bearer_proxy.mjs http://HOST:PORT [LISTEN_PORT]\n');
  process.exit(2);
}
const upstream = new URL(target);
// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection: Node frames each side itself.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-authenticate']);

// Raw headers ([name, value, name, value, ...], duplicates and case kept) without the hop-by-hop ones.
function passed(raw, drop = () => false) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!HOP.has(name) && !drop(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  res.sendDate = false; // the upstream's Date goes through
  const headers = passed(req.rawHeaders, (name) => name === 'authorization');
  headers.push('Authorization', `Bearer ${token}`);
  const out = http.request({
    host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent,
  }, (answer) => {
    res.writeHead(answer.statusCode, answer.statusMessage, passed(answer.rawHeaders));
    res.flushHeaders(); // an SSE stream's headers now, not with its first event
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  out.on('error', (err) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bearer_proxy: ${err.message}\n`);
    } else {
      res.destroy();
    }
  });
  // The client went away (it closed an SSE stream, say): so does the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
});

server.listen(Number(listenPort), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
