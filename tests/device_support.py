"""What device command tests share, natively and on the edge: a WebSocket server of our own that
speaks the Mist stream format (subscribe, data events with session ids, interleaved sessions, a
stall, silence, a close, large output) and a device shell (/ssh), and the Mist mock that answers
the POSTs starting commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

import pytest
import websockets

from conftest import QuietHandler, send_json, serve_mock

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
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        if not self.ready.wait(10):
            raise RuntimeError("the Mist stream server did not start")
        self.url = f"ws://127.0.0.1:{self.port}/api-ws/v1/stream"

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def main():
            async with websockets.serve(self._serve, "127.0.0.1", 0, max_size=None) as server:
                self.port = server.sockets[0].getsockname()[1]
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
        elif self.scenario == "silent":  # a device that never answers: only the deadline ends it
            await asyncio.Future()
        elif self.scenario == "big":  # 100 KiB of output, over the 64 KiB cap
            for i in range(100):
                await ws.send(data(self.session, f"{i:04d} " + "x" * 1018 + "\n"))
            await asyncio.Future()
        elif self.scenario == "huge":  # one message of 300 KB
            await ws.send(data(self.session, "y" * 300_000))
            await asyncio.Future()
        elif self.scenario == "close":
            await ws.send(data(self.session, mine[0]))
            await ws.send(data(self.session, mine[1]))
            await ws.close()

    async def _shell(self, ws):
        async for message in ws:
            self.shell_input.append(message)
            if isinstance(message, bytes) and message.startswith(b"\x00"):
                command = message[1:].decode().strip()
                if command == "show log silent":  # the device never answers
                    continue
                if command == "show log big":  # 80 KiB, over the 64 KiB cap
                    for i in range(80):
                        await ws.send(b"\x00" + f"{i:04d} ".encode() + b"z" * 1017 + b"\r\n")
                    continue
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


