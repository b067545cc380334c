// mistmcp on a Workers-style host (workerd, Cloudflare Workers): MCP streamable HTTP at /mcp,
// answered with JSON (no SSE stream is offered: GET is 405). Each message goes to the wasm
// module with the request's configuration and the session store; a session's state lives in a
// Durable Object named by its Mcp-Session-Id, which forgets it after an idle time. Device
// commands open their WebSockets from the module, with this host's fetch. With the
// MISTMCP_OAUTH_CONFIG binding, the module checks OAuth access tokens (see mistmcp-wasm/src/oauth.rs)
// and reads the secret bindings its rules name from `env`.
import { initSync, handle, oauth_metadata, origin_allowed } from "./mistmcp_wasm.js";
import wasmModule from "./mistmcp_wasm_bg.wasm";

initSync({ module: wasmModule });

const MAX_BODY = 1 << 20;
const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

// The module's answer: {status, headers, body, session_id}.
function reply(answer) {
  const headers = Object.fromEntries(answer.headers || []);
  if (answer.session_id) headers["mcp-session-id"] = answer.session_id;
  if (answer.body === null || answer.body === undefined) return new Response(null, { status: answer.status, headers });
  return json(answer.status, answer.body, headers);
}

const strip = (raw) => (raw ? raw.replace(/^(bearer|token)\s+/i, "").trim() : null);

// With server tokens, Authorization carries the server's token and the Mist token travels apart.
function mistToken(headers, serverTokens) {
  const own = headers.get("x-mist-token") || headers.get("x-authorization");
  return strip(own || (serverTokens ? null : headers.get("authorization")));
}

const list = (text) => (text || "").split(",").map((x) => x.trim()).filter(Boolean);

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The presented token's hash when it is one of the server's, else null. Compares every stored
// hash in full, whatever matches: the time does not depend on the token.
async function serverTokenHash(presented, hashes) {
  if (!presented) return null;
  const digest = await sha256Hex(presented);
  let ok = false;
  for (const h of hashes) {
    let diff = h.length ^ digest.length;
    for (let i = 0; i < Math.max(h.length, digest.length); i++) diff |= h.charCodeAt(i) ^ digest.charCodeAt(i);
    ok = ok || diff === 0;
  }
  return ok ? digest : null;
}

// The Durable Object of one session: get, put (re-arming the idle alarm), delete.
export class McpSession {
  constructor(state, env) {
    this.state = state;
    this.idleMs = Number(env.MISTMCP_SESSION_IDLE_MS || 30 * 60 * 1000);
  }
  async fetch(request) {
    const { op, session } = await request.json();
    if (op === "get") {
      const stored = await this.state.storage.get("session");
      return stored === undefined ? new Response(null, { status: 404 }) : json(200, { session: stored });
    }
    if (op === "put") {
      await this.state.storage.put("session", session);
      await this.state.storage.setAlarm(Date.now() + this.idleMs);
      return new Response(null, { status: 204 });
    }
    await this.state.storage.deleteAll();
    return new Response(null, { status: 204 });
  }
  async alarm() {
    await this.state.storage.deleteAll();
  }
}

// mistcore's SessionStore, as the module calls it: get/put/delete of a session's JSON by id,
// each session in its own Durable Object.
function sessionStore(env) {
  const call = async (id, op, session) => {
    const stub = env.SESSIONS.get(env.SESSIONS.idFromName(id));
    const answer = await stub.fetch("https://session/", { method: "POST", body: JSON.stringify({ op, session }) });
    if (!answer.ok && answer.status !== 404) throw new Error(`session storage answered ${answer.status}`);
    return answer;
  };
  return {
    async get(id) {
      const answer = await call(id, "get");
      return answer.status === 404 ? null : (await answer.json()).session;
    },
    async put(id, session) { await call(id, "put", session); },
    async delete(id) { await call(id, "delete"); },
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    // MCP authorization: with MISTMCP_OAUTH_CONFIG, requests need an OAuth access token, which
    // the module checks; the resource metadata it names is served outside /mcp, to anyone.
    const oauth = Boolean((env.MISTMCP_OAUTH_CONFIG || "").trim());
    const isMcp = url.pathname === "/mcp" || url.pathname === "/mcp/";
    const metadata = !isMcp && oauth && request.method === "GET" ? oauth_metadata(url.pathname, env) : undefined;
    if (!isMcp && metadata === undefined) {
      return json(404, { error: "MCP is served at /mcp" });
    }
    // DNS rebinding: only the configured host names (and origins) reach the server.
    const hosts = list(env.MISTMCP_ALLOWED_HOSTS);
    if (hosts.length && !hosts.includes(url.hostname)) {
      return json(403, { error: `host ${url.hostname} is not allowed` });
    }
    if (metadata !== undefined) return reply(JSON.parse(metadata));
    // Browser origins: the worker's own, loopback ones when it is reached on loopback, listed ones
    // (mistcore's rule, the native server's too).
    const origin = request.headers.get("origin");
    if (origin && !origin_allowed(origin, url.host, env.MISTMCP_ALLOWED_ORIGINS || "", hosts.length > 0)) {
      return json(403, { error: `Origin ${origin} is not allowed: browsers may reach this server only from its own origin; list others in MISTMCP_ALLOWED_ORIGINS` });
    }
    // The server's own tokens, as SHA-256 hashes in a secret binding. Beside OAuth, a request
    // whose Authorization is not one of them goes to the module as an access token.
    const serverTokens = list(env.MISTMCP_TOKEN_HASHES);
    const serverToken = serverTokens.length ? await serverTokenHash(strip(request.headers.get("authorization")), serverTokens) : null;
    if (serverTokens.length && !serverToken && !oauth) {
      return json(401, { error: "this server requires `Authorization: Bearer <server token>`; the Mist token goes in X-Authorization or X-Mist-Token" }, { "www-authenticate": "Bearer" });
    }
    const accessToken = oauth && !serverToken;
    const sid = request.headers.get("mcp-session-id");
    // (With OAuth, the body is read before the module checks the access token: at most MAX_BODY.)
    let body = "";
    if (request.method === "POST") {
      body = await request.text();
      if (body.length > MAX_BODY) return json(413, { error: `request body over ${MAX_BODY} bytes` });
    }
    const config = {
      method: request.method,
      // A user signed in with OAuth never brings a Mist token: the operator's rule binds one.
      token: accessToken ? null : mistToken(request.headers, serverTokens.length > 0 || oauth),
      cloud: url.searchParams.get("cloud") || env.MIST_HOST || null,
      api_url: env.MIST_API_URL || null,
      mode: url.searchParams.get("mode"),
      categories: url.searchParams.get("categories"),
      write_tools: env.MISTMCP_ENABLE_WRITE_TOOLS === "true",
      // The deployment's choice, never the client's: secrets reach the model as they are.
      show_secrets: env.MISTMCP_SHOW_SECRETS === "true",
      request_timeout: env.MISTMCP_REQUEST_TIMEOUT ? Number(env.MISTMCP_REQUEST_TIMEOUT) : null,
      rate_limit: env.MISTMCP_RATE_LIMIT ? Number(env.MISTMCP_RATE_LIMIT) : null,
      max_response_bytes: env.MISTMCP_MAX_RESPONSE_BYTES ? Number(env.MISTMCP_MAX_RESPONSE_BYTES) : null,
      max_upstream_bytes: env.MISTMCP_MAX_UPSTREAM_BYTES ? Number(env.MISTMCP_MAX_UPSTREAM_BYTES) : null,
      // Device commands: the Mist stream's URL (else derived from the cloud), the longest a
      // command's output is read, the shell deny-list (one entry per line; else the built-in one).
      ws_url: env.MIST_WS_URL || null,
      command_timeout: env.MISTMCP_COMMAND_TIMEOUT ? Number(env.MISTMCP_COMMAND_TIMEOUT) : null,
      shell_denylist: env.MISTMCP_SHELL_DENYLIST || null,
      confirm_secret: env.MISTMCP_CONFIRM_SECRET || null,
      server_token: serverToken,
      authorization: accessToken ? request.headers.get("authorization") : null,
      // Protocol 2026-07-28 ties these headers to the body; the module checks they agree.
      protocol_version: request.headers.get("mcp-protocol-version"),
      mcp_method: request.headers.get("mcp-method"),
      mcp_name: request.headers.get("mcp-name"),
    };
    // POST and DELETE (which closes the caller's own session) are the module's; others are 405.
    return reply(JSON.parse(await handle(body, JSON.stringify(config), sid, sessionStore(env), env)));
  },
};
