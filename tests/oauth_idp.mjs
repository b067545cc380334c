// A real OAuth 2.1 / OpenID Connect identity provider for the MCP authorization tests, built on
// oidc-provider (OpenID Certified). The tests play the user's browser: POST /test/login-as says
// who logs in, and GET /interaction/:uid then logs that user in and grants what was asked for
// (within what the user may have) without a page, so a client that follows redirects with a
// cookie jar ends at its redirect_uri with a code.
//
//   node tests/oauth_idp.mjs CONFIG.json
//
// CONFIG: {"port": 0, "resource": "http://127.0.0.1:8123/mcp",
//          "users": {"alice": {"groups": ["NOC"], "scopes": ["mist:read"]}},
//          "jwks": {"keys": [private RS256 JWKs; the first one signs]},
//          "access_token_ttl": 300, "access_token_format": "jwt" | "opaque",
//          "refresh_token_ttl": 86400, "other_resources": ["http://.../elsewhere"],
//          "registered_scope_limits": false,
//          "introspection_client": {"client_id": "...", "client_secret": "..."}}
// Prints one JSON line {"issuer": ..., "port": ...} once it listens; logs go to stderr.
//
// Test routes: POST /test/login-as {"user": "alice"}; GET /test/stats; POST /test/revoke-all
// (forgets every token, code and grant); POST /test/keys {"sign": KID, "publish": [KID, ...]}
// (which configured key signs from now on, which ones /jwks shows: a key rotation).
import fs from 'node:fs';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const MIST_SCOPES = ['mist:read', 'mist:write'];

function log(...args) {
  process.stderr.write(`oauth_idp: ${args.join(' ')}\n`);
}

function fail(message) {
  log(message);
  process.exit(2);
}

const configPath = process.argv[2];
if (!configPath) fail('usage: node oauth_idp.mjs CONFIG.json');
let config;
try {
  config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read ${configPath}: ${err.message}`);
}

const users = config.users ?? {};
const resource = config.resource;
if (typeof resource !== 'string' || !URL.canParse(resource)) fail('config.resource must be an absolute URI');
const otherResources = config.other_resources ?? [];
const keys = config.jwks?.keys ?? [];
if (!keys.length) fail('config.jwks.keys must hold at least one private JWK');
for (const key of keys) {
  if (!key.kid) fail('every JWK in config.jwks needs a kid');
}
const accessTokenTTL = config.access_token_ttl ?? 300;
const accessTokenFormat = config.access_token_format ?? 'jwt';
if (!['jwt', 'opaque'].includes(accessTokenFormat)) fail('access_token_format is "jwt" or "opaque"');
const introspectionClient = config.introspection_client;
const registeredScopeLimits = config.registered_scope_limits ?? false;

// What the tests can change while it runs.
const state = {
  loginAs: undefined,
  signKid: keys[0].kid,
  publish: undefined, // undefined: every key
};
const stats = {
  jwks_requests: 0,
  token_requests: 0,
  refresh_requests: 0,
  introspection_requests: 0,
  registrations: 0,
  authorizations: 0,
};

// A storage adapter of our own (in memory) so that /test/revoke-all can forget everything.
const stores = new Map();
function storeFor(name) {
  if (!stores.has(name)) stores.set(name, new Map());
  return stores.get(name);
}
class MemoryAdapter {
  constructor(name) {
    this.name = name;
    this.store = storeFor(name);
  }

  async upsert(id, payload, expiresIn) {
    if (this.name === 'Client' && !registeredScopeLimits) {
      // oidc-provider refuses a later request for a scope outside the one a client registered
      // with; both SDKs register with the scope of their first challenge, so that would make a
      // step-up (read, then write) impossible. Forget it unless the config asks for it.
      payload = { ...payload };
      delete payload.scope;
    }
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    this.store.set(id, { payload: JSON.stringify(payload), expiresAt });
  }

  #live(id) {
    const entry = this.store.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return entry;
  }

  async find(id) {
    const entry = this.#live(id);
    return entry ? JSON.parse(entry.payload) : undefined;
  }

  async #findBy(field, value) {
    for (const id of this.store.keys()) {
      const payload = await this.find(id);
      if (payload?.[field] === value) return payload;
    }
    return undefined;
  }

  findByUid(uid) {
    return this.#findBy('uid', uid);
  }

  findByUserCode(userCode) {
    return this.#findBy('userCode', userCode);
  }

  async consume(id) {
    const entry = this.#live(id);
    if (entry) {
      const payload = JSON.parse(entry.payload);
      payload.consumed = Math.floor(Date.now() / 1000);
      entry.payload = JSON.stringify(payload);
    }
  }

  async destroy(id) {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const store of stores.values()) {
      for (const [id, entry] of store) {
        if (JSON.parse(entry.payload).grantId === grantId) store.delete(id);
      }
    }
  }
}

function resourceServerInfo(indicator) {
  return {
    scope: MIST_SCOPES.join(' '),
    accessTokenTTL,
    accessTokenFormat,
    ...(accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256', kid: state.signKid } } } : {}),
  };
}

function account(accountId) {
  if (!Object.hasOwn(users, accountId)) return undefined;
  return {
    accountId,
    async claims() {
      return { sub: accountId, groups: users[accountId].groups ?? [] };
    },
  };
}

function providerConfiguration() {
  const clients = [];
  if (introspectionClient) {
    clients.push({
      client_id: introspectionClient.client_id,
      client_secret: introspectionClient.client_secret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  }
  return {
    adapter: MemoryAdapter,
    clients,
    jwks: { keys },
    // openid and offline_access are oidc-provider's own; the Mist scopes must be listed too, or
    // a registration naming them (the TypeScript SDK sends the scope it will ask for) is refused.
    scopes: ['openid', 'offline_access', ...MIST_SCOPES],
    findAccount: async (ctx, sub) => account(sub),
    cookies: { keys: ['oauth-idp-test-cookie-key'] },
    clientBasedCORS: () => true,
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
    ttl: {
      AccessToken: accessTokenTTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: config.refresh_token_ttl ?? 86400,
      Interaction: 600,
      Session: 86400,
      Grant: 86400,
    },
    // Every client allowed the refresh_token grant gets one, offline_access or not (the
    // TypeScript SDK does not ask for offline_access; the Python SDK does when it is advertised).
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      return { groups: users[token.accountId]?.groups ?? [] };
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      revocation: { enabled: true },
      introspection: {
        enabled: true,
        // The resource server's client may introspect every token; any other client only its own.
        allowedPolicy: async (ctx, client, token) => (
          (introspectionClient && client.clientId === introspectionClient.client_id)
          || token.clientId === client.clientId
        ),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => oneOf ?? resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator === resource || otherResources.includes(indicator)) return resourceServerInfo(indicator);
          throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        },
      },
    },
    renderError: async (ctx, out, error) => {
      ctx.type = 'application/json';
      ctx.body = { ...out, detail: String(error?.message ?? error) };
    },
  };
}

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// Logs in as the chosen user, or grants: the requested scopes within the user's, the others
// rejected (so oidc-provider does not ask again), for every requested resource.
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    const user = state.loginAs;
    if (!user || !Object.hasOwn(users, user)) {
      sendJson(res, 400, { error: 'no user to log in as: POST /test/login-as {"user": ...} first' });
      return;
    }
    log(`login ${user} for ${params.client_id}`);
    await provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name !== 'consent') {
    sendJson(res, 400, { error: `unexpected prompt ${prompt.name}` });
    return;
  }
  const accountId = session.accountId;
  const allowed = new Set(users[accountId]?.scopes ?? []);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCScope) {
    const granted = missingOIDCScope.filter((s) => !MIST_SCOPES.includes(s) || allowed.has(s));
    const rejected = missingOIDCScope.filter((s) => !granted.includes(s));
    if (granted.length) grant.addOIDCScope(granted.join(' '));
    if (rejected.length) grant.rejectOIDCScope(rejected.join(' '));
  }
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    const granted = scopes.filter((s) => allowed.has(s));
    const rejected = scopes.filter((s) => !allowed.has(s));
    if (granted.length) grant.addResourceScope(indicator, granted.join(' '));
    if (rejected.length) grant.rejectResourceScope(indicator, rejected.join(' '));
    log(`consent ${accountId} for ${params.client_id} at ${indicator}: granted [${granted}] rejected [${rejected}]`);
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function testRoute(provider, req, res, url) {
  if (req.method === 'POST' && url.pathname === '/test/login-as') {
    const { user } = await readJson(req);
    if (!Object.hasOwn(users, user)) {
      sendJson(res, 400, { error: `unknown user ${user}` });
      return;
    }
    state.loginAs = user;
    sendJson(res, 200, { user });
  } else if (req.method === 'GET' && url.pathname === '/test/stats') {
    sendJson(res, 200, stats);
  } else if (req.method === 'POST' && url.pathname === '/test/revoke-all') {
    for (const name of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Grant', 'ClientCredentials']) {
      stores.get(name)?.clear();
    }
    sendJson(res, 200, { revoked: true });
  } else if (req.method === 'POST' && url.pathname === '/test/keys') {
    const { sign, publish } = await readJson(req);
    const known = new Set(keys.map((k) => k.kid));
    if (sign !== undefined && !known.has(sign)) {
      sendJson(res, 400, { error: `unknown kid ${sign}` });
      return;
    }
    if (publish !== undefined && !(Array.isArray(publish) && publish.every((k) => known.has(k)))) {
      sendJson(res, 400, { error: 'publish must list configured kids' });
      return;
    }
    if (sign !== undefined) state.signKid = sign;
    if (publish !== undefined) state.publish = publish;
    sendJson(res, 200, { sign: state.signKid, publish: state.publish ?? [...known] });
  } else {
    sendJson(res, 404, { error: 'not found' });
  }
}

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port ?? 0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, providerConfiguration());

provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;
  if (route === 'jwks') {
    stats.jwks_requests += 1;
    if (state.publish && ctx.body?.keys) {
      ctx.body = { keys: ctx.body.keys.filter((k) => state.publish.includes(k.kid)) };
    }
  } else if (route === 'token') {
    stats.token_requests += 1;
    if (ctx.oidc.params?.grant_type === 'refresh_token') stats.refresh_requests += 1;
  } else if (route === 'introspection') {
    stats.introspection_requests += 1;
  } else if (route === 'registration') {
    stats.registrations += 1;
  } else if (route === 'authorization') {
    stats.authorizations += 1;
  } else if (route === 'discovery' && ctx.status === 200 && ctx.body) {
    // oidc-provider lists only its scopes table; say which ones the Mist resource has too.
    ctx.body.scopes_supported = [...new Set([...(ctx.body.scopes_supported ?? []), ...MIST_SCOPES])];
  }
  if (ctx.status >= 400 && route) log(`${ctx.method} ${ctx.path} -> ${ctx.status} ${JSON.stringify(ctx.body)}`);
});
provider.on('server_error', (ctx, err) => log(`server_error ${ctx.path}: ${err.stack}`));

const providerHandler = provider.callback();
server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  let handled;
  if (url.pathname.startsWith('/test/')) {
    handled = testRoute(provider, req, res, url);
  } else if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(url.pathname)) {
    handled = interaction(provider, req, res);
  } else {
    providerHandler(req, res);
    return;
  }
  handled.catch((err) => {
    log(`${req.method} ${url.pathname}: ${err.stack ?? err}`);
    if (!res.headersSent) sendJson(res, 400, { error: err.name ?? 'error', detail: String(err.message ?? err) });
    else res.end();
  });
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

log(`listening at ${issuer} for resource ${resource} (${accessTokenFormat} access tokens, ${accessTokenTTL} s)`);
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
