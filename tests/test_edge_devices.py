"""Device commands on the edge: mist_utilities and mist_run_shell_command in real workerd, their
WebSockets opened with the host's fetch to the Mist stream server of the native tests
(device_support.py), driven by the official Python MCP SDK over streamable HTTP: output of one's
own session, the shell, the command deadline, the output cap, the bound on unread stream bytes,
the write gate and where the token goes."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from conftest import result_json, result_text
from device_support import DEVICE, SITE, TOKEN, MistStream, device_mist, stream  # noqa: F401 (stream: a fixture)
from http_support import http_session
from test_edge import answering, modern_client, start_edge

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def mist(stream):
    """The Mist mock that answers the POSTs starting commands (shared by the module's tests)."""
    with device_mist(stream) as posts:
        yield posts


@pytest.fixture
def posts(mist):
    mist.calls.clear()
    mist.shell_url = None
    yield mist


@contextlib.contextmanager
def edge_for(posts, stream, **settings):
    """workerd with the module, Mist at the mock, the stream at our server; yields the /mcp URL
    of the Mist cloud api.mist.com."""
    gen = start_edge(posts.url, **{"@MIST_WS_URL@": stream.url, **settings})
    url = next(gen)
    try:
        yield f"{url}?cloud=api.mist.com&mode=custom&categories=workflows,diagnostics"
    finally:
        next(gen, None)


@pytest.fixture(scope="module")
def edge(mist, stream):
    with edge_for(mist, stream) as url:
        yield url


def ping(utility="ping", device_type="ex", **extra):
    return {"device_type": device_type, "utility": utility, "site_id": SITE, "device_id": DEVICE,
            "parameters": {"host": "8.8.8.8"}, **extra}


def session(url):
    return http_session(url, {"X-Mist-Token": TOKEN})


async def test_a_utility_reads_its_own_session_from_the_stream(edge, stream, posts):
    stream.scenario = "ok"
    async with session(edge) as (s, _):
        result = await s.call_tool("mist_utilities", ping(timeout_seconds=1))
        out = result_json(result)
    assert not result.is_error and out["complete"] is True, out
    assert out["output"].startswith("PING 8.8.8.8") and "ping statistics" in out["output"]
    assert "other output" not in out["output"]  # the interleaved session is not ours
    assert out["messages"] == 3
    assert ("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/ping", {"host": "8.8.8.8"}) in posts.calls
    assert stream.subscriptions[-1] == f"/sites/{SITE}/devices/{DEVICE}/cmd"
    assert stream.auth[-1] == f"Token {TOKEN}"  # the token goes to the cloud's own stream


async def test_a_closed_stream_ends_the_output(edge, stream, posts):
    stream.scenario = "close"
    async with session(edge) as (s, _):
        out = result_json(await s.call_tool("mist_utilities", ping(device_type="srx")))
    assert out["complete"] is True and out["messages"] == 2, out


async def test_the_shell_runs_one_read_only_command(edge, stream, posts):
    async with session(edge) as (s, _):
        out = result_json(await s.call_tool("mist_run_shell_command",
                                            {"site_id": SITE, "device_id": DEVICE, "command": "show version"}))
        assert "Junos: 23.4R2" in out["output"] and "\x1b" not in out["output"] and "\r" not in out["output"], out
        assert "$9$ShellHid" not in out["output"]  # secrets reach the model as handles, as natively
        assert out["complete"] is True
        assert stream.shell_input[-1] == b"\x00show version\n"
        refused = await s.call_tool("mist_run_shell_command",
                                    {"site_id": SITE, "device_id": DEVICE, "command": "show configuration"})
        assert refused.is_error and "deny-list" in result_text(refused)
    assert [p[1] for p in posts.calls if p[1].endswith("/shell")] == [f"/api/v1/sites/{SITE}/devices/{DEVICE}/shell"]


async def test_the_shell_deny_list_binding(stream, posts):
    with edge_for(posts, stream, **{"@SHELL_DENYLIST@": "# ours\\nshow version\\n"}) as url:
        async with session(url) as (s, _):
            refused = await s.call_tool("mist_run_shell_command",
                                        {"site_id": SITE, "device_id": DEVICE, "command": "show ver"})
            assert refused.is_error and "(`show version`)" in result_text(refused)
            # `show configuration` is on the built-in list only: a list of one's own allows it.
            allowed = result_json(await s.call_tool("mist_run_shell_command",
                                                    {"site_id": SITE, "device_id": DEVICE, "command": "show configuration"}))
            assert allowed["complete"] is True
    assert len([p for p in posts.calls if p[1].endswith("/shell")]) == 1


async def test_the_deadline_ends_a_device_that_never_answers(stream, posts):
    with edge_for(posts, stream, **{"@COMMAND_TIMEOUT@": "3"}) as url:
        async with session(url) as (s, _):
            stream.scenario = "silent"
            started = time.monotonic()
            silent = result_json(await s.call_tool("mist_utilities", ping(utility="traceroute")))
            elapsed = time.monotonic() - started
            assert silent["complete"] is False and silent["messages"] == 0 and silent["output"] == "", silent
            assert "no output within" in silent["note"] or "deadline" in silent["note"], silent
            assert 2.5 <= elapsed < 6, elapsed
            stream.scenario = "stall"  # output that never stops
            started = time.monotonic()
            stalled = result_json(await s.call_tool("mist_utilities", ping(utility="traceroute")))
            elapsed = time.monotonic() - started
            assert stalled["complete"] is False and "partial" in stalled["note"], stalled
            assert stalled["output"].startswith("line 0\n")
            assert 2.5 <= elapsed < 6, elapsed
            started = time.monotonic()
            shell = result_json(await s.call_tool("mist_run_shell_command", {
                "site_id": SITE, "device_id": DEVICE, "command": "show log silent", "timeout_seconds": 2}))
            elapsed = time.monotonic() - started
            assert shell["complete"] is False and "deadline (2 s)" in shell["note"], shell
            assert 1.5 <= elapsed < 5, elapsed
    stream.scenario = "ok"


async def test_output_over_the_cap_is_cut_with_a_note(edge, stream, posts):
    stream.scenario = "big"
    async with session(edge) as (s, _):
        out = result_json(await s.call_tool("mist_utilities", ping(timeout_seconds=1)))
        assert out["truncated"] is True and out["complete"] is False, {k: out[k] for k in out if k != "output"}
        assert "cut at 65536 bytes" in out["note"] and len(out["output"].encode()) <= 65536
        assert out["output"].startswith("0000 x")
        shell = result_json(await s.call_tool("mist_run_shell_command",
                                              {"site_id": SITE, "device_id": DEVICE, "command": "show log big"}))
        assert shell["truncated"] is True and "cut at 65536 bytes" in shell["note"]
        assert len(shell["output"].encode()) <= 65536
    stream.scenario = "ok"


async def test_unread_stream_bytes_are_bounded(stream, posts):
    """A message larger than MISTMCP_MAX_UPSTREAM_BYTES is never queued: the stream fails."""
    stream.scenario = "huge"
    with edge_for(posts, stream, **{"@MAX_UPSTREAM_BYTES@": "200000"}) as url:
        async with session(url) as (s, _):
            out = result_json(await s.call_tool("mist_utilities", ping(timeout_seconds=1)))
    assert out["complete"] is False and "more than 200000 bytes" in out["note"], out
    assert "yyyy" not in out["output"]
    stream.scenario = "ok"


async def test_utilities_that_change_a_device_need_a_confirmation(stream, posts):
    bounce = {"device_type": "ex", "utility": "bouncePort", "site_id": SITE, "device_id": DEVICE,
              "parameters": {"port_ids": ["ge-0/0/1"]}, "timeout_seconds": 1}
    with edge_for(posts, stream) as url:
        async with session(url) as (s, _):
            off = await s.call_tool("mist_utilities", bounce)
            assert off.is_error and "write tools are off" in result_text(off), result_text(off)
    with edge_for(posts, stream, **{"@WRITE_TOOLS@": "true"}) as url:
        async with session(url) as (s, _):  # a handshake client: nothing can ask the human
            unconfirmed = await s.call_tool("mist_utilities", bounce)
            assert unconfirmed.is_error, result_text(unconfirmed)
    assert posts.calls == []  # nothing was started


@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_a_confirmed_utility_runs_once(stream, posts, action):
    """A 2026-07-28 client confirms through the answers, as for every write on the edge."""
    stream.scenario = "ok"
    bounce = {"device_type": "ex", "utility": "bouncePort", "site_id": SITE, "device_id": DEVICE,
              "parameters": {"port_ids": ["ge-0/0/1"]}, "timeout_seconds": 1}
    seen = []
    with edge_for(posts, stream, **{"@WRITE_TOOLS@": "true"}) as url:
        async with modern_client(url, answering(action, seen)) as c:
            out = result_json(await c.call_tool("mist_utilities", bounce))
    assert len(seen) == 1 and "bouncePort" in seen[0] and "ge-0/0/1" in seen[0], seen
    bounced = ("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/bounce_port", {"ports": ["ge-0/0/1"]})
    if action == "accept":
        assert out["complete"] is True and posts.calls == [bounced], (out, posts.calls)
    else:
        assert "declined" in out and posts.calls == [], (out, posts.calls)


async def test_a_stream_that_cannot_be_opened_is_an_error(stream, posts):
    """Nothing listening, or an HTTP server that does not upgrade: a tool error naming the host."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        for ws_url, why in [(f"ws://127.0.0.1:{closed.getsockname()[1]}/api-ws/v1/stream", "cannot open the Mist stream"),
                            (posts.url.replace("http://", "ws://") + "/api-ws/v1/stream", "instead of a WebSocket")]:
            with edge_for(posts, stream, **{"@MIST_WS_URL@": ws_url}) as url:
                async with session(url) as (s, _):
                    result = await s.call_tool("mist_utilities", ping(timeout_seconds=1))
            assert result.is_error and why in result_text(result) and "127.0.0.1" in result_text(result), result_text(result)
            assert TOKEN not in result_text(result)
    finally:
        closed.close()
    assert not [p for p in posts.calls if p[0] == "POST"]  # the command was never started


async def test_the_token_never_goes_to_another_port(edge, stream, posts):
    """A shell URL on the stream's host but another port gets no token (mistcore's rule)."""
    other = MistStream()
    posts.shell_url = f"ws://127.0.0.1:{other.port}/ssh?jwt=secret-jwt"
    async with session(edge) as (s, _):
        out = result_json(await s.call_tool("mist_run_shell_command",
                                            {"site_id": SITE, "device_id": DEVICE, "command": "show version"}))
    assert "Junos" in out["output"], out
    assert other.auth == [None]
