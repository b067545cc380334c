"""Device commands: mist_utilities and the remote shell against a WebSocket server of our own that
speaks the Mist stream format (subscribe, data events with session ids, interleaved sessions, a
stall, a close), with the POSTs answered by a Mist mock of our own or by Prism."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading

import pytest
import websockets
from mcp import types

from conftest import QuietHandler, built_binary, free_port, result_json, result_text, send_json, serve_mock, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio

SITE = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f"
DEVICE = "00000000-0000-0000-1000-5c5b35000001"
TOKEN = "device-token"


class MistStream:
    """The Mist WebSocket stream (/api-ws/v1/stream) and a device shell (/ssh), in a thread."""

    def __init__(self):
        self.scenario = "ok"
        self.session = "sess-1"
        self.auth: list[str | None] = []
        self.subscriptions: list[str] = []
        self.shell_input: list[bytes | str] = []
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)
        self.url = f"ws://127.0.0.1:{self.port}/api-ws/v1/stream"

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def main():
            async with websockets.serve(self._serve, "127.0.0.1", self.port):
                self.ready.set()
                await asyncio.Future()

        self.loop.run_until_complete(main())

    async def _serve(self, ws):
        self.auth.append(ws.request.headers.get("Authorization"))
        if ws.request.path.startswith("/ssh"):
            await self._shell(ws)
            return
        async for message in ws:
            channel = json.loads(message).get("subscribe")
            if channel:
                self.subscriptions.append(channel)
                await ws.send(json.dumps({"event": "channel_subscribed", "channel": channel}))
                await self._emit(ws, channel)

    async def _emit(self, ws, channel):
        def data(session, raw):
            return json.dumps({"event": "data", "channel": channel, "data": {"session": session, "raw": raw}})

        await asyncio.sleep(0.3)  # the command starts after the POST
        mine = ["PING 8.8.8.8 (8.8.8.8): 56 data bytes\n", "64 bytes from 8.8.8.8: icmp_seq=0 ttl=117 time=4.1 ms\n",
                "--- 8.8.8.8 ping statistics ---\n"]
        if self.scenario == "ok":
            for i, line in enumerate(mine):
                await ws.send(data(self.session, line))
                await ws.send(data("someone-else", f"other output {i}\n"))  # another command, interleaved
                await asyncio.sleep(0.1)
            await asyncio.sleep(30)  # then quiet: the idle time ends the command
        elif self.scenario == "stall":
            n = 0
            while True:  # output never stops: the deadline ends it
                await ws.send(data(self.session, f"line {n}\n"))
                n += 1
                await asyncio.sleep(0.4)
        elif self.scenario == "secrets":  # a configuration, as `show configuration | display set` prints it
            for line in ["set system host-name ex-1\n", 'set system root-authentication encrypted-password "$6$Dev$Hash"\n',
                         "set snmp community Dev-C0mm authorization read-only\n"]:
                await ws.send(data(self.session, line))
            await asyncio.sleep(30)
        elif self.scenario == "close":
            await ws.send(data(self.session, mine[0]))
            await ws.send(data(self.session, mine[1]))
            await ws.close()

    async def _shell(self, ws):
        async for message in ws:
            self.shell_input.append(message)
            if isinstance(message, bytes) and message.startswith(b"\x00"):
                command = message[1:].decode().strip()
                await ws.send(b"\x00" + f"{command}\r\n".encode())
                await ws.send(b"\x00\x1b[1mHostname: ex-1\x1b[0m\r\nJunos: 23.4R2\r\n")
                await ws.send(b'\x00radius-server 10.0.0.1 secret "$9$ShellHid"; ## SECRET-DATA\r\n')
                await ws.send(b"\x00\r\nadmin@ex-1> ")


@pytest.fixture(scope="module")
def stream():
    yield MistStream()


class Posts:
    def __init__(self):
        self.calls: list[tuple[str, str, object]] = []


@contextlib.contextmanager
def device_mist(stream: MistStream, self_answer=None):
    """The REST side: the POSTs that start commands, /self; records every call."""
    posts = Posts()

    class Handler(QuietHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            posts.calls.append(("POST", self.path, body))
            if self.path.endswith("/shell"):
                url = getattr(posts, "shell_url", None) or f"ws://127.0.0.1:{stream.port}/ssh?jwt=secret-jwt"
                send_json(self, 200, {"session": "shell-1", "url": url})
            elif self.path.endswith("/clear_mac_table"):
                send_json(self, 200, {})
            else:
                send_json(self, 200, {"session": stream.session})

        def do_GET(self):
            posts.calls.append(("GET", self.path, None))
            send_json(self, 200, self_answer or {"email": "ops@example.com", "privileges": [
                {"scope": "org", "org_id": "6748cfa6-4e12-11e6-9188-0242ac110007", "role": "admin", "name": "Org"}]})

    with serve_mock(Handler) as url:
        posts.url = url
        yield posts


def env_for(posts, stream, **extra):
    return server_env(posts.url, token=TOKEN, MIST_WS_URL=stream.url, **extra)


async def utilities(c, **arguments):
    return await c.call("mist_utilities", arguments)


async def test_ping_reads_its_own_session_until_the_device_is_quiet(mistmcp_bin, stream):
    stream.scenario = "ok"
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            seen = []

            async def on_progress(progress, total, message):
                seen.append(progress)

            result = await c.session.call_tool("mist_utilities", {
                "device_type": "ex", "utility": "ping", "site_id": SITE, "device_id": DEVICE,
                "parameters": {"host": "8.8.8.8"}, "timeout_seconds": 1}, progress_callback=on_progress)
            out = result_json(result)
            assert out["complete"] is True, out
            assert out["output"].startswith("PING 8.8.8.8") and "ping statistics" in out["output"]
            assert "other output" not in out["output"]  # the interleaved session is not ours
            assert out["messages"] == 3
            assert seen and seen[-1] == 3  # progress notifications while waiting
        assert ("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/ping", {"host": "8.8.8.8"}) in posts.calls
        assert stream.subscriptions[-1] == f"/sites/{SITE}/devices/{DEVICE}/cmd"
        assert stream.auth[-1] == f"Token {TOKEN}"


async def test_the_deadline_marks_partial_output(mistmcp_bin, stream):
    stream.scenario = "stall"
    with device_mist(stream) as posts:
        env = env_for(posts, stream, MISTMCP_COMMAND_TIMEOUT="3")
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env) as c:
            out = result_json(await utilities(c, device_type="ex", utility="traceroute", site_id=SITE, device_id=DEVICE,
                                              parameters={"host": "8.8.8.8"}))
            assert out["complete"] is False and "partial" in out["note"]
            assert out["output"].startswith("line 0\n")


async def test_a_closed_stream_ends_the_output(mistmcp_bin, stream):
    stream.scenario = "close"
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            out = result_json(await utilities(c, device_type="srx", utility="ping", site_id=SITE, device_id=DEVICE,
                                              parameters={"host": "8.8.8.8"}))
            assert out["complete"] is True and out["messages"] == 2


async def test_listing_and_argument_errors(mistmcp_bin, stream):
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            listing = result_json(await utilities(c, device_type="ap"))
            assert {u["utility"] for u in listing["utilities"]} == {"ping", "traceroute", "retrieveArpTable"}
            wrong = await utilities(c, device_type="ap", utility="bouncePort", site_id=SITE, device_id=DEVICE)
            assert wrong.is_error and "not a utility of `ap`" in result_text(wrong)
            missing = await utilities(c, device_type="ex", utility="ping", site_id=SITE, device_id=DEVICE)
            assert missing.is_error and "`host`" in result_text(missing)
        assert posts.calls == []


async def test_disruptive_utilities_are_writes(mistmcp_bin, stream):
    stream.scenario = "ok"
    bounce = {"device_type": "ex", "utility": "bouncePort", "site_id": SITE, "device_id": DEVICE,
              "parameters": {"port_ids": ["ge-0/0/1"]}, "timeout_seconds": 1}
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            off = await c.call("mist_utilities", bounce)
            assert off.is_error and "--enable-write-tools" in result_text(off)

        async def answer(action):
            async def callback(context, params):
                assert "bouncePort" in params.message and "ge-0/0/1" in params.message
                return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)
            return callback

        args = ["--enable-write-tools", "-m", "custom", "-c", "workflows"]
        async with connect(mistmcp_bin, args, env=env_for(posts, stream), elicitation=await answer("decline")) as c:
            declined = result_json(await c.call("mist_utilities", bounce))
            assert "declined" in declined
        assert posts.calls == []
        async with connect(mistmcp_bin, args, env=env_for(posts, stream), elicitation=await answer("accept")) as c:
            done = result_json(await c.call("mist_utilities", bounce))
            assert done["complete"] is True
        assert posts.calls == [("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/bounce_port", {"ports": ["ge-0/0/1"]})]


async def test_the_shell_runs_one_read_only_command(mistmcp_bin, stream):
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics"], env=env_for(posts, stream)) as c:
            out = result_json(await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "show version"}))
            assert "Junos: 23.4R2" in out["output"] and "\x1b" not in out["output"] and "\r" not in out["output"]
            assert "$9$ShellHid" not in out["output"] and "\u00absecret:secret:" in out["output"]  # issue 17
            assert out["complete"] is True
            assert stream.shell_input[-1] == b"\x00show version\n"
            refused = await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "request system reboot"})
            assert refused.is_error and "read-only" in result_text(refused)
        shells = [p for p in posts.calls if p[1].endswith("/shell")]
        assert len(shells) == 1  # the refused command never opened a shell
        env = env_for(posts, stream, MISTMCP_SHELL_DENYLIST="/nonexistent/denylist")
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics"], env=env) as c:
            closed = await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "show version"})
            assert closed.is_error and "deny-list" in result_text(closed)  # fail closed


def test_mistcli_streams_a_ping(stream):
    stream.scenario = "ok"
    with device_mist(stream) as posts:
        run = subprocess.run([built_binary("mistcli"), "devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8",
                              "--timeout-seconds", "1"], capture_output=True, text=True, timeout=60,
                             env=env_for(posts, stream, MISTCLI_CONFIG="/nonexistent"))
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("PING 8.8.8.8") and "other output" not in run.stdout
        as_json = subprocess.run([built_binary("mistcli"), "devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8",
                                  "--timeout-seconds", "1", "-o", "json"], capture_output=True, text=True, timeout=60,
                                 env=env_for(posts, stream, MISTCLI_CONFIG="/nonexistent"))
        assert json.loads(as_json.stdout)["complete"] is True


async def test_ping_started_through_prism(mistmcp_bin, stream, prism):
    """The POST goes to Prism (which checks it against the spec); the output comes from our stream."""
    import httpx2

    answer = httpx2.post(f"{prism}/api/v1/sites/{SITE}/devices/{DEVICE}/ping", json={"host": "8.8.8.8"},
                         headers={"Authorization": f"Token {TOKEN}"}).json()
    stream.session = answer["session"]
    stream.scenario = "ok"
    try:
        env = server_env(prism, token=TOKEN, MIST_WS_URL=stream.url)
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env) as c:
            out = result_json(await utilities(c, device_type="ex", utility="ping", site_id=SITE, device_id=DEVICE,
                                              parameters={"host": "8.8.8.8"}, timeout_seconds=1))
            assert out["complete"] is True and "ping statistics" in out["output"], out
    finally:
        stream.session = "sess-1"


def test_mistcli_refuses_bad_utility_arguments(stream):
    with device_mist(stream) as posts:
        env = env_for(posts, stream, MISTCLI_CONFIG="/nonexistent")
        unknown = subprocess.run([built_binary("mistcli"), "devices", "utility", "nosuchthing", "--site", SITE, "--device", DEVICE],
                                 capture_output=True, text=True, timeout=60, env=env)
        assert unknown.returncode == 2 and unknown.stdout == "" and "not a utility of `ex`" in unknown.stderr
        no_site = subprocess.run([built_binary("mistcli"), "devices", "ping", "--device", DEVICE, "--host", "8.8.8.8"],
                                 capture_output=True, text=True, timeout=60, env=env)
        assert no_site.returncode == 2 and "--site" in no_site.stderr
        bounce = subprocess.run([built_binary("mistcli"), "devices", "utility", "bouncePort", "--site", SITE, "--device", DEVICE,
                                 'port_ids=["ge-0/0/1"]'], capture_output=True, text=True, timeout=60, env=env)
        assert bounce.returncode != 0 and "--yes" in bounce.stderr
        assert posts.calls == []  # nothing was started


def test_mistcli_runs_a_disruptive_utility_with_yes(stream):
    stream.scenario = "ok"
    with device_mist(stream) as posts:
        env = env_for(posts, stream, MISTCLI_CONFIG="/nonexistent")
        run = subprocess.run([built_binary("mistcli"), "devices", "utility", "bouncePort", "--site", SITE, "--device", DEVICE,
                              'port_ids=["ge-0/0/1"]', "--timeout-seconds", "1", "--yes", "-o", "json"],
                             capture_output=True, text=True, timeout=60, env=env)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["complete"] is True
        assert posts.calls == [("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/bounce_port", {"ports": ["ge-0/0/1"]})]


async def test_the_token_never_goes_to_another_port(mistmcp_bin, stream):
    """A shell URL on the stream's host but another port gets no token (issue 14: whole origin)."""
    other = MistStream()
    with device_mist(stream) as posts:
        posts.shell_url = f"ws://127.0.0.1:{other.port}/ssh?jwt=secret-jwt"
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics"], env=env_for(posts, stream)) as c:
            out = result_json(await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "show version"}))
            assert "Junos" in out["output"], out
    assert other.auth and all(a is None for a in other.auth), other.auth


async def test_device_output_shows_secrets_as_handles(mistmcp_bin, stream):
    """Issue 17: a device's configuration in a command's output reaches the model with handles."""
    stream.scenario = "secrets"
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            result = await c.call("mist_utilities", {"device_type": "ex", "utility": "ping", "site_id": SITE,
                                                     "device_id": DEVICE, "parameters": {"host": "8.8.8.8"},
                                                     "timeout_seconds": 2})
            seen = result_text(result) + json.dumps(result.structured_content)
            assert "set system host-name ex-1" in seen, seen
            assert "$6$Dev$Hash" not in seen and "Dev-C0mm" not in seen, seen
            assert "\u00absecret:encrypted-password:" in seen and "\u00absecret:community:" in seen, seen
    stream.scenario = "ok"
