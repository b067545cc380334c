"""Limits and failures: retries, Retry-After, deadlines, the rate budget, malformed answers,
cancellation and the response budget, against a fault-injecting Mist mock of our own (Prism never
answers 429, 5xx, resets or stalls). Each case checks the tool result and how many requests
reached the mock."""

from __future__ import annotations

import contextlib
import email.utils
import json
import select
import socket
import subprocess
import threading
import time

import httpx2
import pytest

from conftest import ORG_ID, QuietHandler, built_binary, result_json, result_text, send_bytes, serve_mock, server_env
from http_support import HttpServer, http_session
from mcp_client import connect

pytestmark = pytest.mark.anyio

SELF = {"email": "fault@example.com", "privileges": []}


class FaultMist:
    """A Mist API answering from a script: each request takes the next step (the last repeats).
    Steps: ("json", status, body, headers), ("raw", status, content_type, bytes), ("reset",),
    ("stall", seconds) which also notices when the client gives up."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.requests: list[tuple[str, str]] = []
        self.aborted = threading.Event()
        self.lock = threading.Lock()

    def next_step(self, method, path):
        with self.lock:
            self.requests.append((method, path))
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]


@contextlib.contextmanager
def fault_mist(*steps):
    mist = FaultMist(steps)

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            step = mist.next_step(self.command, self.path)
            kind = step[0]
            if kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.close()
                self.close_connection = True
                return
            if kind == "stall":
                deadline = time.monotonic() + step[1]
                while time.monotonic() < deadline:
                    readable, _, _ = select.select([self.connection], [], [], 0.05)
                    if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                        mist.aborted.set()
                        self.close_connection = True
                        return
                step = ("json", 200, SELF, {})
                kind = "json"
            if kind == "json":
                _, status, body, headers = step
                data, content_type = json.dumps(body).encode(), "application/json"
            else:
                _, status, content_type, data = step
                headers = {}
            send_bytes(self, status, content_type, data, headers)

        do_GET = do_POST = do_PUT = do_DELETE = handle_one

    with serve_mock(Handler) as url:
        mist.url = url
        yield mist


HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


async def call_self(mist, *args):
    async with connect(args[0], list(args[1:]), env=server_env(mist.url)) as c:
        return await c.call("getSelf")


@pytest.mark.parametrize("steps,requests,expect", [
    # Retry-After in seconds, then an answer: waited out and tried again.
    ([("json", 429, {"detail": "Too Many Requests"}, {"Retry-After": "1"}), ("json", 200, SELF, {})], 2, "ok"),
    # Longer than the cap: no retry, the error says when.
    ([("json", 429, {"detail": "Too Many Requests"}, {"Retry-After": "3600"})], 1, "retry after 3600 s"),
    # Without Retry-After the hourly limit will not free in a moment: no retry.
    ([("json", 429, {"detail": "Too Many Requests"}, {})], 1, "did not say when"),
    # Gateways failing twice, then an answer: retried with backoff.
    ([("raw", 502, "text/html", HTML), ("raw", 503, "text/html", HTML), ("json", 200, SELF, {})], 3, "ok"),
    # Failing every time: three tries, then the status and the page's first bytes.
    ([("raw", 503, "text/html", HTML)], 3, "503"),
    # A 500 is the server's own failure, not a gateway's: not retried.
    ([("raw", 500, "text/html", HTML)], 1, "500"),
    # A reset connection, then an answer.
    ([("reset",), ("json", 200, SELF, {})], 2, "ok"),
    # Success statuses with bodies that cannot be the answer.
    ([("raw", 200, "application/json", b'{"email": "fault@exa')], 1, "does not parse"),
    ([("raw", 200, "text/html", HTML)], 1, "HTML page"),
    ([("raw", 200, "text/plain", b"maintenance")], 1, "text/plain"),
])
async def test_faults_of_a_read(mistmcp_bin, steps, requests, expect):
    with fault_mist(*steps) as mist:
        result = await call_self(mist, mistmcp_bin)
        text = result_text(result)
        if expect == "ok":
            assert not result.is_error, text
            assert result_json(result)["email"] == "fault@example.com"
        else:
            assert result.is_error and expect in text, text
            assert "nginx" in text or "maintenance" in text or "fault@exa" in text or "429" in text, text
        assert len(mist.requests) == requests, mist.requests


async def test_retry_after_as_an_http_date(mistmcp_bin):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    with fault_mist(("json", 429, {"detail": "slow down"}, {"Retry-After": when}), ("json", 200, SELF, {})) as mist:
        result = await call_self(mist, mistmcp_bin)
        assert not result.is_error, result_text(result)
        assert len(mist.requests) == 2


async def test_a_stall_ends_at_the_deadline(mistmcp_bin):
    with fault_mist(("stall", 30)) as mist:
        started = time.monotonic()
        result = await call_self(mist, mistmcp_bin, "--request-timeout", "2")
        assert result.is_error and "no answer within 2 s" in result_text(result), result_text(result)
        assert time.monotonic() - started < 15
        assert len(mist.requests) == 1


async def test_empty_and_null_bodies(mistmcp_bin):
    with fault_mist(("json", 200, None, {})) as mist:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "orgs_sites"], env=server_env(mist.url)) as c:
            sites = await c.call("listOrgSites", {"org_id": ORG_ID})
            assert not sites.is_error and result_json(sites) == []  # a null list is an empty list
            me = await c.call("getSelf")
            assert not me.is_error and result_json(me) is None


async def test_writes_are_never_retried(mistmcp_bin):
    with fault_mist(("raw", 503, "text/html", HTML)) as mist:
        args = ["--enable-write-tools", "--disable-elicitation", "-m", "custom", "-c", "orgs_wlans"]
        async with connect(mistmcp_bin, args, env=server_env(mist.url)) as c:
            result = await c.call("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "x"}})
            assert result.is_error and "503" in result_text(result)
        assert [m for m, _ in mist.requests] == ["POST"]


async def test_the_rate_budget_is_shared_by_the_sessions_of_a_token(mistmcp_bin):
    with fault_mist(("json", 200, SELF, {})) as mist:
        server = HttpServer(mistmcp_bin, ["--rate-limit", "2"], env=server_env(mist.url, token=None, MIST_HOST="api.mist.com"))
        try:
            url = f"{server.url}?cloud=api.mist.com"
            async with http_session(url, {"X-Mist-Token": "shared"}) as (a, _), http_session(url, {"X-Mist-Token": "shared"}) as (b, _):
                assert not (await a.call_tool("getSelf", {})).is_error
                assert not (await b.call_tool("getSelf", {})).is_error
                spent = await b.call_tool("getSelf", {})
                assert spent.is_error and "rate budget" in result_text(spent) and "--rate-limit" in result_text(spent)
            async with http_session(url, {"X-Mist-Token": "another"}) as (c, _):
                assert not (await c.call_tool("getSelf", {})).is_error  # its own budget
            assert len(mist.requests) == 3
        finally:
            server.stop()


def test_a_cancelled_call_abandons_its_request(mistmcp_bin):
    """notifications/cancelled over stdio drops the request to Mist at once."""
    with fault_mist(("stall", 20)) as mist:
        proc = subprocess.Popen([mistmcp_bin], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=server_env(mist.url))
        try:
            def send(message):
                proc.stdin.write((json.dumps(message) + "\n").encode())
                proc.stdin.flush()

            send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
            proc.stdout.readline()
            send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}}})
            deadline = time.monotonic() + 10
            while not mist.requests and time.monotonic() < deadline:
                time.sleep(0.02)
            assert mist.requests, "the call never reached Mist"
            send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "user"}})
            assert mist.aborted.wait(5), "the request to Mist kept running after the cancellation"
            # The server keeps serving.
            send({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
            while True:
                line = json.loads(proc.stdout.readline())
                if line.get("id") == 3:
                    assert len(line["result"]["tools"]) == 5
                    break
        finally:
            proc.kill()
            proc.wait()


def test_an_http_disconnect_abandons_its_request(mistmcp_bin):
    """A client that goes away in the middle of a call on the HTTP server: the request to Mist is dropped."""
    with fault_mist(("stall", 20)) as mist:
        server = HttpServer(mistmcp_bin, [], env=server_env(mist.url, token=None, MIST_HOST="api.mist.com"))
        try:
            url = f"{server.url}?cloud=api.mist.com"
            headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "X-Mist-Token": "t"}
            with httpx2.Client(timeout=30) as c:
                init = c.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
                headers["Mcp-Session-Id"] = init.headers["mcp-session-id"]
                headers["MCP-Protocol-Version"] = "2025-06-18"
                c.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            with httpx2.Client(timeout=30) as c:
                with c.stream("POST", url, headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                                  "params": {"name": "getSelf", "arguments": {}}}):
                    deadline = time.monotonic() + 10
                    while not mist.requests and time.monotonic() < deadline:
                        time.sleep(0.02)
                    assert mist.requests, "the call never reached Mist"
            # The client closed its connection mid-answer.
            assert mist.aborted.wait(5), "the request to Mist kept running after the client went away"
        finally:
            server.stop()


async def test_large_answers_are_cut_for_the_model_but_not_for_the_cli(mistmcp_bin):
    sites = [{"id": f"00000000-0000-0000-0000-{i:012d}", "name": f"site {i}", "notes": "n" * 300} for i in range(1000)]
    with fault_mist(("json", 200, sites, {"X-Page-Total": "1000", "X-Page-Limit": "1000", "X-Page-Page": "1"})) as mist:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "orgs_sites"], env=server_env(mist.url)) as c:
            cut = await c.call("listOrgSites", {"org_id": ORG_ID, "limit": 1000})
            assert not cut.is_error
            first = cut.content[0].text
            assert len(first) <= 64 * 1024
            kept = json.loads(first)
            assert 0 < len(kept) < 1000 and kept[0]["name"] == "site 0"
            note = json.loads(cut.content[-1].text)["truncated"]
            assert note["records_left_out"] == 1000 - len(kept)
            assert any(f"limit={len(kept)}" in h for h in note["how_to_get_the_rest"])
            slim = await c.call("listOrgSites", {"org_id": ORG_ID, "limit": 1000, "fields": ["id", "name"]})
            rows = json.loads(slim.content[0].text)
            assert len(rows) == 1000 and set(rows[0]) == {"id", "name"}
            assert not any("truncated" in b.text for b in slim.content)
            via = await c.call("mist_call_operation", {"operation_id": "listOrgSites", "arguments": {"org_id": ORG_ID}, "fields": "name"})
            assert set(json.loads(via.content[0].text)[0]) == {"name"}
        cli = subprocess.run([built_binary("mistcli"), "sites", "list", "--org", ORG_ID], capture_output=True, text=True,
                             env=server_env(mist.url, MISTCLI_CONFIG="/nonexistent"), timeout=60)
        assert cli.returncode == 0, cli.stderr
        assert len(json.loads(cli.stdout)) == 1000


def test_the_cli_follows_the_same_policy():
    with fault_mist(("raw", 502, "text/html", HTML), ("json", 200, SELF, {})) as mist:
        ok = subprocess.run([built_binary("mistcli"), "self", "get"], capture_output=True, text=True,
                            env=server_env(mist.url, MISTCLI_CONFIG="/nonexistent"), timeout=60)
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["email"] == "fault@example.com"
        assert len(mist.requests) == 2
    with fault_mist(("json", 429, {"detail": "Too Many Requests"}, {"Retry-After": "600"})) as mist:
        limited = subprocess.run([built_binary("mistcli"), "self", "get"], capture_output=True, text=True,
                                 env=server_env(mist.url, MISTCLI_CONFIG="/nonexistent"), timeout=60)
        assert limited.returncode != 0 and limited.stdout == ""
        assert "retry after 600 s" in limited.stderr
        assert len(mist.requests) == 1
