// The MCP authorization flow with the official TypeScript SDK's OAuth client: an in-memory
// OAuthClientProvider whose redirectToAuthorization plays the user's browser (redirects
// followed by hand with a cookie jar until the redirect_uri), finishAuth with the code, connect
// again, tools/list, a call of TOOL, then optionally wait until the access token expired and
// call again (the SDK refreshes on the server's 401).
//
//   node tests/ts_oauth_client.mjs URL TOOL ARGS_JSON --idp ISSUER --user alice [--wait-expiry SECONDS]
//
// Prints one JSON line: {tools, toolNames, calls: [CallToolResult or {error: {name, message,
// code}}, ...], authorizations,
// registrations, tokenSaves, idpStats (what the IdP counted during the run), requests (every
// non-MCP request the SDK made: "METHOD URL -> status"), authorizationUrls, client}.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const REDIRECT_URI = 'http://127.0.0.1:33419/callback';

function parseArgs(argv) {
  const positional = [];
  const options = {};
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i].startsWith('--')) {
      options[argv[i].slice(2)] = argv[i + 1];
      i += 1;
    } else {
      positional.push(argv[i]);
    }
  }
  return { positional, options };
}

const { positional, options } = parseArgs(process.argv.slice(2));
const [url, tool, argsJson = '{}'] = positional;
if (!url || !tool || !options.idp || !options.user) {
  process.stderr.write('usage: node ts_oauth_client.mjs URL TOOL ARGS_JSON --idp ISSUER --user NAME [--wait-expiry SECONDS]\n');
  process.exit(2);
}
const toolArgs = JSON.parse(argsJson);
const waitExpiry = options['wait-expiry'] ? Number(options['wait-expiry']) : 0;

// A browser's cookie jar, enough for oidc-provider: per origin, path-scoped, deletions honoured.
class CookieJar {
  constructor() {
    this.cookies = [];
  }

  store(requestUrl, response) {
    const origin = new URL(requestUrl).origin;
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        const lower = key.toLowerCase();
        if (lower === 'path') path = val || '/';
        if (lower === 'max-age' && Number(val) <= 0) expired = true;
        if (lower === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      this.cookies = this.cookies.filter((c) => !(c.origin === origin && c.name === name && c.path === path));
      if (!expired) this.cookies.push({ origin, name, value, path });
    }
  }

  header(requestUrl) {
    const { origin, pathname } = new URL(requestUrl);
    return this.cookies
      .filter((c) => c.origin === origin && (pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

async function playBrowser(authorizationUrl, redirectPrefix) {
  const jar = new CookieJar();
  let current = authorizationUrl;
  for (let hop = 0; hop < 20; hop += 1) {
    const cookie = jar.header(current);
    const response = await fetch(current, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    jar.store(current, response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new Error(`the browser stopped at ${current}: ${response.status} ${(await response.text()).slice(0, 500)}`);
    }
    await response.body?.cancel();
    current = new URL(location, current).href;
    if (current.startsWith(redirectPrefix)) return Object.fromEntries(new URL(current).searchParams);
  }
  throw new Error(`no redirect to ${redirectPrefix} after 20 hops (last ${current})`);
}

class MemoryOAuthProvider {
  constructor() {
    this.client = undefined;
    this.savedTokens = undefined;
    this.verifier = undefined;
    this.expectedState = undefined;
    this.pendingCode = undefined;
    this.authorizationUrls = [];
    this.tokenSaves = 0;
  }

  get redirectUrl() {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: 'mistmcp-tests (TypeScript SDK)',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info) {
    this.client = info;
  }

  tokens() {
    return this.savedTokens;
  }

  saveTokens(tokens) {
    this.savedTokens = tokens;
    this.tokenSaves += 1;
  }

  async redirectToAuthorization(authorizationUrl) {
    this.authorizationUrls.push(authorizationUrl.href);
    const answer = await playBrowser(authorizationUrl.href, REDIRECT_URI);
    if (!answer.code) throw new Error(`the authorization server answered ${JSON.stringify(answer)}`);
    if (answer.state !== this.expectedState) throw new Error(`state mismatch: ${answer.state}`);
    this.pendingCode = answer.code;
  }

  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }

  codeVerifier() {
    return this.verifier;
  }
}

const idp = options.idp.replace(/\/$/, '');
async function idpCall(method, path, body) {
  const response = await fetch(`${idp}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`IdP ${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

// Every request the SDK makes besides the MCP endpoint's: discovery, registration, token.
const requests = [];
async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const target = String(input instanceof Request ? input.url : input);
  if (target !== url) requests.push(`${init?.method ?? 'GET'} ${target} -> ${response.status}`);
  return response;
}

await idpCall('POST', '/test/login-as', { user: options.user });
const statsBefore = await idpCall('GET', '/test/stats');
const provider = new MemoryOAuthProvider();

async function connect() {
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch });
  const client = new Client({ name: 'mistmcp-tests-ts-oauth', version: '1.0.0' });
  try {
    await client.connect(transport);
    return client;
  } catch (err) {
    if (!(err instanceof UnauthorizedError) || !provider.pendingCode) throw err;
  }
  // The browser came back with a code: exchange it, then connect anew.
  const code = provider.pendingCode;
  provider.pendingCode = undefined;
  await transport.finishAuth(code);
  const again = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch });
  const client2 = new Client({ name: 'mistmcp-tests-ts-oauth', version: '1.0.0' });
  await client2.connect(again);
  return client2;
}

const client = await connect();
const toolNames = (await client.listTools()).tools.map((t) => t.name);
// A call the SDK gives up on (a 403 it could not step up from, say) is recorded, not fatal.
async function call() {
  try {
    return await client.callTool({ name: tool, arguments: toolArgs });
  } catch (err) {
    return { error: { name: err.name, message: err.message, code: err.code } };
  }
}
const calls = [await call()];
const tokensBefore = provider.savedTokens;
if (waitExpiry > 0) {
  await new Promise((resolve) => { setTimeout(resolve, waitExpiry * 1000); });
  calls.push(await call());
}
const statsAfter = await idpCall('GET', '/test/stats');
const idpStats = Object.fromEntries(Object.entries(statsAfter).map(([k, v]) => [k, v - (statsBefore[k] ?? 0)]));
await client.close();

console.log(JSON.stringify({
  tools: toolNames.length,
  toolNames,
  calls,
  authorizations: provider.authorizationUrls.length,
  authorizationUrls: provider.authorizationUrls,
  registrations: idpStats.registrations,
  tokenSaves: provider.tokenSaves,
  tokenRequests: idpStats.token_requests,
  refreshed: idpStats.refresh_requests > 0,
  accessTokenChanged: provider.savedTokens?.access_token !== tokensBefore?.access_token,
  scope: provider.savedTokens?.scope,
  idpStats,
  requests,
  client: provider.client && {
    client_id: provider.client.client_id,
    token_endpoint_auth_method: provider.client.token_endpoint_auth_method,
    grant_types: provider.client.grant_types,
    scope: provider.client.scope,
    application_type: provider.client.application_type,
  },
}));
process.exit(0);
