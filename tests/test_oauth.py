"""MCP authorization (OAuth 2.1) of the HTTP server, with a real identity provider
(oidc-provider, tests/oauth_idp.mjs) and the official OAuth clients of the Python and TypeScript
SDKs: discovery from the 401, dynamic registration, authorization code with PKCE, tokens bound
to this server, refresh, scopes, rules mapping groups to Mist credentials, and every kind of
hostile token refused with the status and challenge the spec asks for."""

from __future__ import annotations

import time

import httpx2
import pytest

from conftest import free_port
from http_support import EchoMist, HttpServer, echo_mist
from oauth_support import (HEADERS, INIT, NETENG_TOKEN, NOC_TOKEN, USERS, WRITE_CALL, challenge, check_refusals,
                           python_oauth_flow, rsa_jwk, start_idp, ts_oauth_flow)

def write_config(tmp_path, resource, issuer, extra_issuer="", leeway=0):
    (tmp_path / "neteng.env").write_text(f"MIST_APITOKEN={NETENG_TOKEN}\nMIST_HOST=api.mist.com\n")
    path = tmp_path / "oauth.toml"
    path.write_text(f'''
resource = "{resource}"
leeway_seconds = {leeway}
introspection_cache_seconds = 1

[[issuers]]
issuer = "{issuer}"
{extra_issuer}

[[rules]]
group = "NetEng"
mist_env_file = "neteng.env"
writes = true

[[rules]]
group = "NOC"
mist_token_env = "NOC_MIST_TOKEN"
writes = true
''')
    return path


class Setup:
    def __init__(self, tmp_path, binary, api_url, *, ttl=300, token_format="jwt", extra_args=()):
        self.port = free_port()
        self.resource = f"http://127.0.0.1:{self.port}/mcp"
        self.key, self.public = rsa_jwk("k1")
        rotated, _ = rsa_jwk("k2")
        self.idp = start_idp(tmp_path, self.resource, USERS, {"keys": [self.key, rotated]}, access_token_ttl=ttl,
                             access_token_format=token_format,
                             other_resources=["http://127.0.0.1:1/other"])
        # k2 is the next key: not published until a rotation.
        self.idp.set_keys(sign="k1", publish=["k1"])
        client = self.idp.config["introspection_client"]
        extra = ""
        if token_format == "opaque":
            extra = (f'[issuers.introspection]\nclient_id = "{client["client_id"]}"\n'
                     'client_secret_env = "IDP_INTROSPECTION_SECRET"\n')
        config = write_config(tmp_path, self.resource, self.idp.issuer, extra)
        env = {"NOC_MIST_TOKEN": NOC_TOKEN, "IDP_INTROSPECTION_SECRET": client["client_secret"],
               "MIST_HOST": "api.mist.com"}
        try:
            self.server = HttpServer(binary, ["--api-url", api_url, "--oauth-config", str(config),
                                              "--enable-write-tools", *extra_args], env=env, port=self.port)
        except Exception:
            self.idp.stop()
            raise
        self.url = self.server.url

    def stop(self):
        self.server.stop()
        self.idp.stop()

    def post(self, token, body, session=None, **headers):
        h = {**HEADERS, **headers}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if session:
            h["Mcp-Session-Id"] = session
            h["MCP-Protocol-Version"] = "2025-11-25"
        return httpx2.post(self.url, json=body, headers=h, timeout=30)




def call(id_, name, arguments):
    return {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def sse_json(response) -> dict:
    import json
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads([d for d in data if d][-1])


@pytest.fixture(scope="module")
def setup(mistmcp_bin, prism, tmp_path_factory):
    s = Setup(tmp_path_factory.mktemp("oauth"), mistmcp_bin, prism, ttl=4)
    yield s
    s.stop()


def test_metadata_and_the_401_challenge(setup):
    for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]:
        doc = httpx2.get(f"http://127.0.0.1:{setup.port}{path}", timeout=10)
        assert doc.status_code == 200
        meta = doc.json()
        assert meta["resource"] == setup.resource
        assert meta["authorization_servers"] == [setup.idp.issuer]
        assert meta["scopes_supported"] == ["mist:read", "mist:write"]
        assert doc.headers["access-control-allow-origin"] == "*"
        preflight = httpx2.options(f"http://127.0.0.1:{setup.port}{path}", timeout=10,
                                   headers={"Origin": "https://claude.ai", "Access-Control-Request-Method": "GET",
                                            "Access-Control-Request-Headers": "mcp-protocol-version"})
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    for method in ["POST", "GET", "DELETE"]:
        r = httpx2.request(method, setup.url, headers=HEADERS, json=INIT if method == "POST" else None, timeout=10)
        assert r.status_code == 401, (method, r.text)
        c = challenge(r)
        assert c["resource_metadata"] == f"http://127.0.0.1:{setup.port}/.well-known/oauth-protected-resource/mcp"
        assert c["scope"] == "mist:read mist:write"
        assert "error" not in c


def test_key_rotation_is_followed(setup):
    """The IdP signs with a new key it now publishes: one JWKS refetch, and its tokens pass."""
    idp = setup.idp
    before = idp.stats()["jwks_requests"]
    idp.set_keys(sign="k2", publish=["k1", "k2"])
    try:
        token = idp.token_for("bob")["access_token"]
        assert setup.post(token, INIT).status_code == 200
        assert idp.stats()["jwks_requests"] == before + 1
        assert setup.post(idp.token_for("bob")["access_token"], INIT).status_code == 200
        assert idp.stats()["jwks_requests"] == before + 1
    finally:
        idp.set_keys(sign="k1")


@pytest.mark.anyio
async def test_python_sdk_signs_in_calls_prism_and_refreshes(setup):
    result = await python_oauth_flow(setup.url, "bob", setup.idp, tool="getSelf", arguments={}, wait_expiry=6)
    assert "getSelf" in result.tools and "mist_call_operation" in result.tools
    assert result.registrations == 1 and len(result.authorization_urls) == 1
    first, second = result.calls
    assert not first.is_error, first
    assert not second.is_error, second
    assert result.refreshed, result.stats
    # The tokens are bound to this server and carry both scopes bob's IdP grants him.
    assert all(t.scope and "mist:write" in t.scope for t in result.tokens)


def test_typescript_sdk_signs_in_calls_prism_and_refreshes(setup):
    result = ts_oauth_flow(setup.url, "alice", setup.idp, "getSelf", {}, wait_expiry=6)
    assert result["registrations"] == 1 and result["authorizations"] == 1
    assert all("error" not in c and not c.get("isError") for c in result["calls"]), result["calls"]
    assert len(result["calls"]) == 2 and result["refreshed"], result
    # alice's IdP grants her reading only.
    assert result["scope"] == "mist:read", result["scope"]


def test_scopes_rules_and_hostile_tokens(setup, tmp_path):
    idp = setup.idp
    # mist:read calling a write: 403 insufficient_scope naming the scopes to ask for.
    alice = idp.token_for("alice", scope="mist:read mist:write")["access_token"]
    opened = setup.post(alice, INIT)
    assert opened.status_code == 200, opened.text
    sid = opened.headers["mcp-session-id"]
    setup.post(alice, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
    refused = setup.post(alice, call(2, WRITE_CALL["name"], WRITE_CALL["arguments"]), sid)
    assert refused.status_code == 403, refused.text
    c = challenge(refused)
    assert c["error"] == "insufficient_scope" and c["scope"] == "mist:read mist:write"
    assert c["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    # The NOC rule names no cloud: its Mist token goes to the server's MIST_HOST only, and naming
    # another is refused.
    elsewhere = httpx2.post(f"{setup.url}?cloud=api.eu.mist.com", json=INIT,
                            headers={**HEADERS, "Authorization": f"Bearer {alice}"}, timeout=30)
    assert elsewhere.status_code == 400 and "bound to the cloud api.mist.com" in elsewhere.json()["error"]
    # Reads go on in the same session.
    read = setup.post(alice, call(3, "getSelf", {}), sid)
    assert read.status_code == 200 and "error" not in sse_json(read), read.text

    # An unmapped user, hostile tokens, an unknown key id.
    sent = check_refusals(setup.post, idp, setup.key, setup.public, INIT)

    # Nothing of any token in the log: only subjects and reasons.
    log = setup.server.text()
    for token in [alice, *sent]:
        assert token not in log
        assert token.split(".")[1] not in log
    assert "mallory" in log


def test_the_access_token_never_reaches_mist(mistmcp_bin, tmp_path):
    with echo_mist() as mist:
        s = Setup(tmp_path, mistmcp_bin, mist)
        try:
            bob = s.idp.token_for("bob")["access_token"]
            opened = s.post(bob, INIT)
            sid = opened.headers["mcp-session-id"]
            s.post(bob, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
            answer = sse_json(s.post(bob, call(2, "getSelf", {}), sid, **{"X-Mist-Token": "client-mist-token"}))
            text = answer["result"]["content"][0]["text"]
            assert NETENG_TOKEN in text, text
            assert bob not in text and "client-mist-token" not in text
            assert NETENG_TOKEN in EchoMist.calls and bob not in EchoMist.calls
            # The session belongs to bob: alice's token cannot use it.
            alice = s.idp.token_for("alice")["access_token"]
            assert s.post(alice, call(3, "getSelf", {}), sid).status_code == 404
        finally:
            s.stop()


def test_opaque_tokens_by_introspection(mistmcp_bin, prism, tmp_path):
    s = Setup(tmp_path, mistmcp_bin, prism, token_format="opaque")
    try:
        bob = s.idp.token_for("bob")["access_token"]
        assert bob.count(".") != 2
        assert s.post(bob, INIT).status_code == 200
        assert s.idp.stats()["introspection_requests"] >= 1
        # A made-up token asked ten times costs the IdP one introspection.
        before = s.idp.stats()["introspection_requests"]
        for _ in range(10):
            r = s.post("made-up-opaque-token-0123456789", INIT)
            assert r.status_code == 401 and challenge(r)["error"] == "invalid_token"
        assert s.idp.stats()["introspection_requests"] == before + 1
        # A refresh token is active at the IdP, but it is no access token.
        refresh = s.idp.token_for("bob").get("refresh_token")
        if refresh:
            assert s.post(refresh, INIT).status_code == 401
        s.idp.revoke_all()
        time.sleep(1.5)  # introspection_cache_seconds = 1
        r = s.post(bob, INIT)
        assert r.status_code == 401 and challenge(r)["error"] == "invalid_token"
        assert bob not in s.server.text()
    finally:
        s.stop()


def test_server_tokens_keep_working_beside_oauth(mistmcp_bin, prism, tmp_path):
    import os
    import subprocess
    import tempfile
    store = tmp_path / "tokens.json"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}
    created = subprocess.run([mistmcp_bin, "--tokens-file", str(store), "tokens", "create", "--id", "cron"],
                             capture_output=True, text=True, env=env, timeout=30)
    server_token = created.stdout.strip()
    s = Setup(tmp_path, mistmcp_bin, prism, extra_args=("--tokens-file", str(store)))
    try:
        r = s.post(server_token, INIT, **{"X-Mist-Token": "scripted"})
        assert r.status_code == 200, r.text
        assert s.post(None, INIT).status_code == 401
    finally:
        s.stop()


def test_a_bad_configuration_is_refused_at_start_and_validated(mistmcp_bin, setup, tmp_path):
    import os
    import subprocess
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}

    def run(config, *extra, more_env=None):
        return subprocess.run([mistmcp_bin, "-t", "http", "-p", str(free_port()), "--oauth-config", str(config), *extra],
                              capture_output=True, text=True, timeout=60, env={**env, **(more_env or {})})

    cases = {
        'resource = "http://mcp.example.com/mcp"\n[[issuers]]\nissuer = "https://idp.example.com"\n': "must be an https URL",
        'resource = "https://mcp.example.com/mcp"\nissuers = []\n': "no [[issuers]]",
        f'resource = "https://mcp.example.com/mcp"\n[[issuers]]\nissuer = "{setup.idp.issuer}"\n'
        '[[rules]]\ngroup = "NOC"\nmist_token_env = "X"\nmode = "bogus"\n': "rule 1 (group NOC)",
    }
    for text, needle in cases.items():
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        done = run(bad)
        assert done.returncode != 0 and needle in done.stderr, (needle, done.stderr)
        assert done.stdout == ""

    good = write_config(tmp_path, setup.resource, setup.idp.issuer)
    checked = run(good, "--validate-config", more_env={"NOC_MIST_TOKEN": "x"})
    assert checked.returncode == 0, checked.stderr
    assert "OAuth configuration valid" in checked.stdout and "2 rule(s)" in checked.stdout
    missing = run(good, "--validate-config")
    assert missing.returncode != 0 and "NOC_MIST_TOKEN" in missing.stderr
