"""Helpers for the HTTP tests: a running `mistmcp -t http`, MCP clients over streamable HTTP,
and a Mist mock of our own that echoes the token it sees and can answer slowly."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from conftest import QuietHandler, free_port, send_json, serve_mock, wait_http


class HttpServer:
    """`mistmcp -t http` on a free port, its log in a file."""

    def __init__(self, binary: str, args: list[str], env: dict[str, str] | None = None, host: str = "127.0.0.1",
                 wrapper: tuple[str, ...] = (), port: int | None = None):
        """`wrapper` goes before the command (`prlimit --nofile=256`, say); `port` one chosen
        before (a URL that must be known first, like an OAuth resource)."""
        self.port = port or free_port()
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        base_env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(), "XDG_CONFIG_HOME": tempfile.mkdtemp()}
        base_env.update(env or {})
        self.proc = subprocess.Popen(
            [*wrapper, binary, "-t", "http", "--host", host, "-p", str(self.port), "-d", *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=base_env, cwd=tempfile.gettempdir(),
        )
        if not wait_http(self.port, 30):
            self.stop()
            raise RuntimeError(f"mistmcp -t http did not start: {self.text()}")
        self.url = f"http://127.0.0.1:{self.port}/mcp"

    def text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


@contextlib.asynccontextmanager
async def http_session(url: str, headers: dict[str, str] | None = None, initialize: bool = True):
    """A Python SDK ClientSession over streamable HTTP; yields (session, notifications)."""
    notifications: list = []

    async def on_message(message):
        notifications.append(message)

    async with httpx2.AsyncClient(headers=headers or {}, timeout=60) as client:
        async with streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write, message_handler=on_message) as session:
                if initialize:
                    await session.initialize()
                yield session, notifications


class EchoMist(QuietHandler):
    """/api/v1/self answers the token it was called with; token `slow` waits 5 s first."""

    calls: list[str] = []

    def do_GET(self):  # noqa: N802
        token = self.headers.get("Authorization", "").removeprefix("Token ")
        EchoMist.calls.append(token)
        if token == "slow":
            time.sleep(5)
        send_json(self, 200, {"email": f"{token}@example.com", "privileges": []})


@contextlib.contextmanager
def echo_mist():
    EchoMist.calls = []
    with serve_mock(EchoMist) as url:
        yield url
