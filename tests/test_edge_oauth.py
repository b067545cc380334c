"""MCP authorization (OAuth 2.1) of the edge module in real workerd, with a real identity provider
(oidc-provider, tests/oauth_idp.mjs) and the official OAuth clients of the Python and TypeScript
SDKs: the MISTMCP_OAUTH_CONFIG binding holds the native --oauth-config TOML, the module fetches
the issuer's metadata and keys with the host's fetch and verifies tokens in wasm32; rules name
the secret bindings of their Mist tokens (here `fromEnvironment` ones). The native side is
tests/test_oauth.py: the same refusals, statuses and challenges are asked of the edge."""

from __future__ import annotations

import contextlib
import json
import time

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import free_port
from http_support import EchoMist, echo_mist
from oauth_support import (HEADERS, INIT, NETENG_TOKEN, NOC_TOKEN, USERS, WRITE_CALL, challenge, check_refusals, forge,
                           python_oauth_flow, rsa_jwk, start_idp, tamper, token_claims, ts_oauth_flow)
from test_edge import edge_dir, workerd

# The rules' Mist tokens, read by workerd from its environment (never written in its config).
SECRET_BINDINGS = ('(name = "NETENG_MIST_TOKEN", fromEnvironment = "NETENG_MIST_TOKEN"), '
                   '(name = "NOC_MIST_TOKEN", fromEnvironment = "NOC_MIST_TOKEN"), '
                   '(name = "IDP_INTROSPECTION_SECRET", fromEnvironment = "IDP_INTROSPECTION_SECRET"),')


def oauth_toml(resource: str, issuer: str, extra_issuer: str = "", rules: str | None = None) -> str:
    """The configuration of tests/test_oauth.py, the edge's way: rules name bindings, not files."""
    return f'''
resource = "{resource}"
leeway_seconds = 0
introspection_cache_seconds = 1

[[issuers]]
issuer = "{issuer}"
{extra_issuer}
''' + (rules if rules is not None else '''
[[rules]]
group = "NetEng"
mist_token_env = "NETENG_MIST_TOKEN"
mist_host = "api.mist.com"
writes = true

[[rules]]
group = "NOC"
mist_token_env = "NOC_MIST_TOKEN"
mist_host = "api.mist.com"
writes = true
''')


def capnp_text(text: str) -> str:
    """`text` as the inside of a Cap'n Proto string literal (the config's placeholder)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class EdgeOAuth:
    """workerd with the module, MISTMCP_OAUTH_CONFIG set, on a port chosen first (the resource URI
    is in the tokens), its Mist API at `upstream`, and an IdP of its own."""

    def __init__(self, tmp_path, upstream: str, *, ttl: int = 300, token_format: str = "jwt",
                 rules: str | None = None, settings: dict[str, str] | None = None, idp: bool = True,
                 extra_keys: list[dict] | None = None):
        self.port = free_port()
        self.resource = f"http://127.0.0.1:{self.port}/mcp"
        self.url = self.resource
        self.key, self.public = rsa_jwk("k1")
        rotated, _ = rsa_jwk("k2")
        self.idp = None
        issuer, extra, secret = "http://127.0.0.1:9/no-idp", "", "unused"
        if idp:
            published = list(extra_keys or [])
            self.idp = start_idp(tmp_path, self.resource, USERS, {"keys": [self.key, rotated, *published]},
                                 access_token_ttl=ttl, access_token_format=token_format,
                                 other_resources=["http://127.0.0.1:1/other"])
            # k2 is the next key: not published until a rotation.
            self.idp.set_keys(sign="k1", publish=["k1", *(k["kid"] for k in published)])
            issuer = self.idp.issuer
            client = self.idp.config["introspection_client"]
            secret = client["client_secret"]
            if token_format == "opaque":
                extra = (f'[issuers.introspection]\nclient_id = "{client["client_id"]}"\n'
                         'client_secret_env = "IDP_INTROSPECTION_SECRET"\n')
        self.config = oauth_toml(self.resource, issuer, extra, rules)
        values = {"@PORT@": str(self.port), "@OAUTH_CONFIG@": capnp_text(self.config),
                  "@EXTRA_BINDINGS@": SECRET_BINDINGS, "@WRITE_TOOLS@": "true", "@MIST_HOST@": "api.mist.com"}
        values.update(settings or {})
        self.work = edge_dir(upstream, **values)
        env = {"NETENG_MIST_TOKEN": NETENG_TOKEN, "NOC_MIST_TOKEN": NOC_TOKEN, "IDP_INTROSPECTION_SECRET": secret}
        self._stack = contextlib.ExitStack()
        try:
            self._stack.enter_context(workerd(self.work, env=env))
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        self._stack.close()
        if self.idp:
            self.idp.stop()

    def log(self) -> str:
        return (self.work / "workerd.log").read_text(errors="replace")

    def post(self, token, body, session=None, **headers):
        h = {**HEADERS, **headers}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if session:
            h["Mcp-Session-Id"] = session
            h["MCP-Protocol-Version"] = "2025-11-25"
        return httpx2.post(self.url, json=body, headers=h, timeout=30)

    def open(self, token) -> str:
        """An initialized session of `token`'s user: its id."""
        opened = self.post(token, INIT)
        assert opened.status_code == 200, opened.text
        sid = opened.headers["mcp-session-id"]
        assert self.post(token, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid).status_code == 202
        return sid




def call(id_, name, arguments):
    return {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def assert_no_token_in(log: str, tokens) -> None:
    """Nothing of any token in workerd's output: neither a whole token nor a JWT's claims."""
    for token in tokens:
        assert token not in log
        if token.count(".") == 2:
            assert token.split(".")[1] not in log


@pytest.fixture(scope="module")
def edge(prism, tmp_path_factory):
    s = EdgeOAuth(tmp_path_factory.mktemp("edge-oauth"), prism, ttl=4)
    yield s
    s.stop()


def test_metadata_and_the_401_challenge(edge):
    for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]:
        doc = httpx2.get(f"http://127.0.0.1:{edge.port}{path}", timeout=10)
        assert doc.status_code == 200, doc.text
        meta = doc.json()
        assert meta["resource"] == edge.resource
        assert meta["authorization_servers"] == [edge.idp.issuer]
        assert meta["scopes_supported"] == ["mist:read", "mist:write"]
        assert doc.headers["access-control-allow-origin"] == "*"
    assert httpx2.get(f"http://127.0.0.1:{edge.port}/.well-known/other", timeout=10).status_code == 404
    for method in ["POST", "GET", "DELETE"]:
        r = httpx2.request(method, edge.url, headers=HEADERS, json=INIT if method == "POST" else None, timeout=10)
        assert r.status_code == 401, (method, r.text)
        c = challenge(r)
        assert c["resource_metadata"] == f"http://127.0.0.1:{edge.port}/.well-known/oauth-protected-resource/mcp"
        assert c["scope"] == "mist:read mist:write"
        assert "error" not in c
    # A Mist token where the access token should be is just an invalid access token.
    r = edge.post("a-mist-token", INIT)
    assert r.status_code == 401 and challenge(r)["error"] == "invalid_token"


def test_a_valid_token_lists_tools_and_calls_prism(edge):
    bob = edge.idp.token_for("bob")["access_token"]
    sid = edge.open(bob)
    listed = edge.post(bob, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, sid)
    assert listed.status_code == 200, listed.text
    names = {t["name"] for t in listed.json()["result"]["tools"]}
    assert {"getSelf", "mist_call_operation"} <= names
    me = edge.post(bob, call(3, "getSelf", {}), sid).json()
    assert "error" not in me and not me["result"]["isError"], me
    # Without a session too (each request stands alone).
    assert edge.post(bob, {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}).status_code == 200
    # DELETE closes bob's own session.
    closed = httpx2.delete(edge.url, headers={"Authorization": f"Bearer {bob}", "Mcp-Session-Id": sid}, timeout=10)
    assert closed.status_code == 200
    assert edge.post(bob, {"jsonrpc": "2.0", "id": 5, "method": "ping"}, sid).status_code == 404


def test_key_rotation_is_followed(edge):
    """The IdP signs with a new key it now publishes: one JWKS refetch, and its tokens pass."""
    idp = edge.idp
    before = idp.stats()["jwks_requests"]
    idp.set_keys(sign="k2", publish=["k1", "k2"])
    try:
        assert edge.post(idp.token_for("bob")["access_token"], INIT).status_code == 200
        assert idp.stats()["jwks_requests"] == before + 1
        assert edge.post(idp.token_for("bob")["access_token"], INIT).status_code == 200
        assert idp.stats()["jwks_requests"] == before + 1
    finally:
        idp.set_keys(sign="k1")


def signing_keys() -> dict[str, tuple[object, dict]]:
    """Keys of every kind the edge verifies with WebCrypto: (private key, private JWK) by kid. The
    RSA key names no `alg`, so that it signs RS384/512 and PS256/384/512 alike."""
    made = {
        "rsa-any": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec-p256": ec.generate_private_key(ec.SECP256R1()),
        "ec-p384": ec.generate_private_key(ec.SECP384R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    to_jwk = {"rsa-any": jwt.algorithms.RSAAlgorithm, "ec-p256": jwt.algorithms.ECAlgorithm,
              "ec-p384": jwt.algorithms.ECAlgorithm, "ed25519": jwt.algorithms.OKPAlgorithm}
    keys = {}
    for kid, key in made.items():
        jwk = json.loads(to_jwk[kid].to_jwk(key))
        jwk.update(kid=kid, use="sig")
        keys[kid] = (key, jwk)
    return keys


# The algorithms the edge accepts, and the key of signing_keys() each is signed with.
ALGORITHMS = [("RS384", "rsa-any"), ("RS512", "rsa-any"), ("PS256", "rsa-any"), ("PS384", "rsa-any"),
              ("PS512", "rsa-any"), ("ES256", "ec-p256"), ("ES384", "ec-p384"), ("EdDSA", "ed25519")]


def test_every_algorithm_verifies_with_webcrypto(prism, tmp_path):
    """RS256 is the IdP's own (the other tests); each other accepted algorithm is signed here with
    a key the IdP publishes, and verified by the host's WebCrypto: a valid token passes, the same
    with one bit of its signature flipped is refused, and a key of another curve is refused
    before any verification."""
    keys = signing_keys()
    edge = EdgeOAuth(tmp_path, prism, extra_keys=[jwk for _, jwk in keys.values()])
    try:
        good = token_claims(edge.idp, "bob", scope="mist:read")
        for alg, kid in ALGORITHMS:
            token = jwt.encode(good, keys[kid][0], algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})
            ok = edge.post(token, INIT)
            assert ok.status_code == 200, (alg, ok.status_code, ok.text)
            # The same token again: from the cache of verified tokens.
            assert edge.post(token, INIT).status_code == 200, alg
            bad = edge.post(tamper(token), INIT)
            assert bad.status_code == 401, (alg, bad.text)
            assert "signature" in challenge(bad)["error_description"], (alg, challenge(bad))
        mixed = jwt.encode(good, keys["ec-p384"][0], algorithm="ES384", headers={"kid": "ec-p256"})
        refused = edge.post(mixed, INIT)
        assert refused.status_code == 401
        assert "not its key's" in challenge(refused)["error_description"]
        assert "cannot be verified" not in edge.log(), edge.log()
    finally:
        edge.stop()


def test_scopes_rules_and_hostile_tokens(edge):
    idp = edge.idp
    # mist:read calling a write: 403 insufficient_scope naming the scopes to ask for.
    alice = idp.token_for("alice", scope="mist:read mist:write")["access_token"]
    sid = edge.open(alice)
    refused = edge.post(alice, call(2, WRITE_CALL["name"], WRITE_CALL["arguments"]), sid)
    assert refused.status_code == 403, refused.text
    c = challenge(refused)
    assert c["error"] == "insufficient_scope" and c["scope"] == "mist:read mist:write"
    assert c["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    # Also inside a batch (a 2025-03-26 session).
    old = edge.post(alice, {**INIT, "params": {**INIT["params"], "protocolVersion": "2025-03-26"}})
    batch = httpx2.post(edge.url, json=[{"jsonrpc": "2.0", "id": 7, "method": "ping"},
                                        call(8, WRITE_CALL["name"], WRITE_CALL["arguments"])],
                        headers={**HEADERS, "Authorization": f"Bearer {alice}",
                                 "Mcp-Session-Id": old.headers["mcp-session-id"]}, timeout=30)
    assert batch.status_code == 403 and challenge(batch)["error"] == "insufficient_scope", batch.text
    # Reads go on in the same session.
    read = edge.post(alice, call(3, "getSelf", {}), sid)
    assert read.status_code == 200 and "error" not in read.json(), read.text

    # An unmapped user, hostile tokens, an unknown key id.
    sent = check_refusals(edge.post, idp, edge.key, edge.public, INIT)

    # Nothing of any token in workerd's output: only subjects and reasons.
    log = edge.log()
    assert_no_token_in(log, [alice, *sent])
    assert "request refused" in log and "mallory" in log
    assert NETENG_TOKEN not in log and NOC_TOKEN not in log


@pytest.mark.anyio
async def test_python_sdk_signs_in_calls_prism_and_refreshes(edge):
    """The SDK's OAuth client against the worker, which answers JSON (no SSE): discovery from the
    401, registration, PKCE, a call; after the access token expired, a refresh and a call."""
    result = await python_oauth_flow(edge.url, "bob", edge.idp, tool="getSelf", arguments={}, wait_expiry=6)
    assert "getSelf" in result.tools and "mist_call_operation" in result.tools
    assert result.registrations == 1 and len(result.authorization_urls) == 1
    first, second = result.calls
    assert not first.is_error, first
    assert not second.is_error, second
    assert result.refreshed, result.stats
    assert all(t.scope and "mist:write" in t.scope for t in result.tokens)
    assert_no_token_in(edge.log(), result.access_tokens)


def test_typescript_sdk_signs_in_calls_prism_and_refreshes(edge):
    result = ts_oauth_flow(edge.url, "alice", edge.idp, "getSelf", {}, wait_expiry=6)
    assert result["registrations"] == 1 and result["authorizations"] == 1
    assert all("error" not in c and not c.get("isError") for c in result["calls"]), result["calls"]
    assert len(result["calls"]) == 2 and result["refreshed"], result
    assert result["scope"] == "mist:read", result["scope"]


def test_mist_gets_the_rules_token_never_the_access_token(tmp_path):
    with echo_mist() as mist:
        s = EdgeOAuth(tmp_path, mist)
        try:
            bob = s.idp.token_for("bob")["access_token"]
            sid = s.open(bob)
            # A Mist token of the client's own is ignored: users never bring one.
            answer = s.post(bob, call(2, "getSelf", {}), sid, **{"X-Mist-Token": "client-mist-token",
                                                                 "X-Authorization": "client-x-token"}).json()
            text = answer["result"]["content"][0]["text"]
            assert NETENG_TOKEN in text, text
            assert bob not in text and "client-mist-token" not in text and "client-x-token" not in text
            assert EchoMist.calls == [NETENG_TOKEN]
            # Another group's rule, another Mist token.
            alice = s.idp.token_for("alice")["access_token"]
            noc = s.post(alice, call(3, "getSelf", {})).json()
            assert NOC_TOKEN in noc["result"]["content"][0]["text"]
            assert bob not in EchoMist.calls and alice not in EchoMist.calls
            # The session belongs to bob: alice's token cannot use it, nor close it.
            assert s.post(alice, call(4, "getSelf", {}), sid).status_code == 404
            gone = httpx2.delete(s.url, headers={"Authorization": f"Bearer {alice}", "Mcp-Session-Id": sid}, timeout=10)
            assert gone.status_code == 404
            assert s.post(bob, call(5, "getSelf", {}), sid).status_code == 200
            assert_no_token_in(s.log(), [bob, alice, NETENG_TOKEN, NOC_TOKEN])
        finally:
            s.stop()


def test_a_rule_sets_mode_categories_and_writes(tmp_path):
    """The rule's mode and categories are the operator's (the query does not change them where
    the rule names them); a rule without `writes` withholds write tools whatever the token's scope."""
    rules = '''
[[rules]]
group = "NetEng"
mist_token_env = "NETENG_MIST_TOKEN"
mode = "custom"
categories = ["orgs_sites"]

[[rules]]
group = "NOC"
mist_token_env = "NOC_MIST_TOKEN"
mode = "minimal"
'''
    with echo_mist() as mist:
        s = EdgeOAuth(tmp_path, mist, rules=rules)
        try:
            s.url = f"{s.resource}?mode=managed&categories=orgs_wlans"
            bob = s.idp.token_for("bob")["access_token"]
            listed = s.post(bob, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).json()
            names = {t["name"] for t in listed["result"]["tools"]}
            assert "listOrgSites" in names and not any("Wlan" in n for n in names), names
            alice = s.idp.token_for("alice")["access_token"]
            listed = s.post(alice, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).json()
            # The minimal mode (not the query's managed one); the query's categories where the rule
            # names none, as natively.
            names = {t["name"] for t in listed["result"]["tools"]}
            assert {"manageMcpTools", "getSelf", "listOrgWlans"} <= names and "mist_search_operations" not in names, names
            # A rule without `mist_host` sends its token to the deployment's MIST_HOST, never to a
            # cloud the user names.
            s.url = f"{s.resource}?cloud=api.eu.mist.com"
            elsewhere = s.post(alice, INIT)
            assert elsewhere.status_code == 400 and "bound to the cloud api.mist.com" in elsewhere.text, elsewhere.text
            # bob has the write scope, but his rule has no `writes`: the session refuses, no 403.
            s.url = s.resource
            refused = s.post(bob, call(3, WRITE_CALL["name"], WRITE_CALL["arguments"]))
            assert refused.status_code == 200, refused.text
            answer = refused.json()
            text = answer["result"]["content"][0]["text"] if "result" in answer else answer["error"]["message"]
            assert "write" in text.lower(), answer
            assert EchoMist.calls == []
        finally:
            s.stop()


def test_opaque_tokens_by_introspection(prism, tmp_path):
    """The introspection client's secret comes from the binding the configuration names."""
    s = EdgeOAuth(tmp_path, prism, token_format="opaque")
    try:
        bob = s.idp.token_for("bob")["access_token"]
        assert bob.count(".") != 2
        assert s.post(bob, INIT).status_code == 200
        assert s.idp.stats()["introspection_requests"] >= 1
        s.idp.revoke_all()
        time.sleep(1.5)  # introspection_cache_seconds = 1
        r = s.post(bob, INIT)
        assert r.status_code == 401 and challenge(r)["error"] == "invalid_token"
        assert_no_token_in(s.log(), [bob, s.idp.config["introspection_client"]["client_secret"]])
    finally:
        s.stop()


def test_an_unreachable_identity_provider_is_a_503(tmp_path):
    """The keys cannot be fetched: 503 without a challenge (signing in again would not help), the
    reason in the body and the log; when the IdP is back, the next request is served."""
    with echo_mist() as mist:
        s = EdgeOAuth(tmp_path, mist)
        try:
            token = forge(s.key, token_claims(s.idp, "bob", scope="mist:read"))
            port = s.idp.port
            s.idp.stop()
            r = s.post(token, INIT)
            assert r.status_code == 503 and "www-authenticate" not in r.headers, r.text
            assert "cannot be reached" in r.json()["error"] and "retry later" in r.json()["error"]
            s.idp = start_idp(tmp_path / "again", s.resource, USERS, {"keys": [s.key]}, port=port)
            # Requests fail at once for a couple of seconds after a failure (the IdP is not asked
            # by each of them), then the next one is served.
            statuses = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                statuses.append(s.post(token, INIT).status_code)
                if statuses[-1] != 503:
                    break
                time.sleep(0.5)
            assert statuses[-1] == 200, statuses
            assert "cannot be reached" in s.log()
            assert_no_token_in(s.log(), [token])
        finally:
            s.stop()


def test_server_tokens_keep_working_beside_oauth(tmp_path):
    import hashlib

    server_token = "mmcp_edge-cron-token"
    with echo_mist() as mist:
        s = EdgeOAuth(tmp_path, mist, settings={"@TOKEN_HASHES@": hashlib.sha256(server_token.encode()).hexdigest()})
        try:
            r = s.post(server_token, call(1, "getSelf", {}), **{"X-Mist-Token": "scripted"})
            assert r.status_code == 200, r.text
            assert "scripted@example.com" in r.json()["result"]["content"][0]["text"]
            assert EchoMist.calls == ["scripted"]
            # Anything else is an access token, checked as such.
            assert challenge(s.post(None, INIT))["resource_metadata"].endswith("/oauth-protected-resource/mcp")
            assert challenge(s.post("mmcp_wrong", INIT))["error"] == "invalid_token"
            assert s.post(s.idp.token_for("bob")["access_token"], INIT).status_code == 200
        finally:
            s.stop()


def test_what_the_edge_cannot_do_is_refused_with_the_fix(tmp_path):
    """A rule with an env file or a Junos inventory (files the edge cannot read): every request is
    answered 500 saying which rule and what to write instead, logged once per isolate; a rule
    whose Mist token binding is missing fails its own users only, naming the binding in the log."""
    rules = '''
[[rules]]
group = "NetEng"
mist_env_file = "neteng.env"

[[rules]]
subject = "alice"
mist_token_env = "NOC_MIST_TOKEN"
junos_devices = "devices.json"
'''
    s = EdgeOAuth(tmp_path, "http://127.0.0.1:9", rules=rules, idp=False)
    try:
        for _ in range(3):
            r = s.post("whatever", INIT)
            assert r.status_code == 500, r.text
            error = r.json()["error"]
            assert "rule 1 (group NetEng)" in error and "mist_token_env" in error, error
            assert "rule 2 (subject alice)" in error and "junos_devices" in error, error
            assert "MISTMCP_OAUTH_CONFIG" in error
        meta = httpx2.get(f"http://127.0.0.1:{s.port}/.well-known/oauth-protected-resource/mcp", timeout=10)
        assert meta.status_code == 500 and "mist_env_file" in meta.json()["error"]
        assert s.log().count("rule 1 (group NetEng)") == 1
    finally:
        s.stop()

    missing = '''
[[rules]]
group = "NetEng"
mist_token_env = "NO_SUCH_BINDING"

[[rules]]
group = "NOC"
mist_token_env = "NOC_MIST_TOKEN"
'''
    s = EdgeOAuth(tmp_path / "missing", "http://127.0.0.1:9", rules=missing)
    try:
        bob = s.idp.token_for("bob")["access_token"]
        r = s.post(bob, INIT)
        assert r.status_code == 500 and "ask the operator" in r.json()["error"], r.text
        assert "NO_SUCH_BINDING" not in r.text
        assert s.post(s.idp.token_for("alice")["access_token"], INIT).status_code == 200
        log = s.log()
        assert "OAuth rule group NetEng: the binding NO_SUCH_BINDING" in log
        assert_no_token_in(log, [bob, NOC_TOKEN])
    finally:
        s.stop()
