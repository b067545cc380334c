"""Shared fixtures: the built mistmcp binary, Prism serving the Mist spec, MCP client sessions."""

from __future__ import annotations

import contextlib
import json
import threading
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-7f3e9c2a1b"  # distinctive, so a leak into any output is easy to spot
ORG_ID = "6748cfa6-4e12-11e6-9188-0242ac110007"


@contextlib.contextmanager
def memory_watchdog(pids, limit_mib: float = 2048):
    """Kills the processes `pids` (a list, or a callable giving one) if one's RSS passes
    `limit_mib`, so that a test of a memory bound can never exhaust the machine; yields a list
    that holds what was killed."""
    killed: list[str] = []
    stop = threading.Event()

    def rss_mib(pid: int) -> float:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def watch():
        while not stop.wait(0.1):
            for pid in (pids() if callable(pids) else pids):
                if (rss := rss_mib(pid)) > limit_mib:
                    with contextlib.suppress(OSError):
                        os.kill(pid, 9)
                    killed.append(f"pid {pid} killed at {rss:.0f} MiB (limit {limit_mib:.0f})")

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join()


def spec_path() -> Path:
    """The spec, found as mistcore/build.rs finds it."""
    candidates = [
        os.environ.get("MIST_OPENAPI_SPEC", ""),
        str(ROOT / "mist_openapi" / "mist.openapi.json"),
        str(ROOT.parent / "shared" / "mist_openapi" / "mist.openapi.json"),
    ]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise RuntimeError("mist.openapi.json not found (see mist_openapi/README.md)")


@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


def built_binary(name: str) -> str:
    """target/debug/<name> (or $<NAME>_BIN), built when missing."""
    path = os.environ.get(f"{name.upper()}_BIN") or str(ROOT / "target" / "debug" / name)
    if not Path(path).is_file():
        subprocess.run(["cargo", "build", "--bin", name], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="session")
def mistmcp_bin() -> str:
    return built_binary("mistmcp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="session")
def prism() -> str:
    """Prism mocking the whole Mist spec; yields its base URL."""
    prism_bin = ROOT / "tests" / "node_modules" / ".bin" / "prism"
    if not prism_bin.exists():
        raise RuntimeError("Prism is missing: run scripts/setup.sh")
    port = free_port()
    command = [str(prism_bin), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec_path())]
    with serving(command, port, 180, "Prism", ROOT / "target" / "prism.log"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def serving(command: list[str], port: int, seconds: float, what: str, log_path: Path, **popen):
    """Runs a server process, its output in `log_path`, until it answers on `port`; stops it after."""
    log = open(log_path, "w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
    try:
        if not wait_http(port, seconds):
            raise RuntimeError(f"{what} did not start within {seconds} s: {Path(log_path).read_text()[-2000:]}")
        yield proc
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        log.close()


class QuietHandler(BaseHTTPRequestHandler):
    """An http.server handler of a mock of our own, without access logs on stderr."""

    def log_message(self, *args):
        pass


def server_env(api_url: str | None = None, token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    """A clean environment for the server: only what a test gives it."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    if token is not None:
        env["MIST_APITOKEN"] = token
    if api_url is not None:
        env["MIST_API_URL"] = api_url
    env.update(extra)
    return env


def result_text(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def result_json(result):
    return json.loads(result.content[0].text)


def send_bytes(handler, status: int, content_type: str, data: bytes, headers: dict | None = None) -> None:
    """Answers an http.server request with a body (for the mocks of our own)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def send_json(handler, status: int, body, headers: dict | None = None) -> None:
    """Answers an http.server request with JSON (for the mocks of our own)."""
    send_bytes(handler, status, "application/json", json.dumps(body).encode(), headers)


@contextlib.contextmanager
def serve_mock(handler):
    """A mock of our own (an http.server handler class) on a free loopback port; yields its URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


class Recorder:
    """What a proxy of ours in front of Prism saw: (method, path, status) of each request, and
    the JSON body of each write."""

    def __init__(self):
        self.requests: list[tuple[str, str, int]] = []
        self.bodies: list = []
        self.url = ""

    def writes(self):
        return [r for r in self.requests if r[0] != "GET"]

    def write_bodies(self):
        return [b for r, b in zip(self.requests, self.bodies) if r[0] != "GET"]


@contextlib.contextmanager
def prism_proxy(prism: str, edit=None):
    """Forwards every request to Prism and records it (a Recorder); `edit(method, path, status,
    data)` may change an answer's bytes on the way back."""
    recorder = Recorder()

    class Forward(QuietHandler):
        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            request = urllib.request.Request(prism + self.path, data=body, headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status, data, answer_headers = answer.status, answer.read(), answer.headers
            except urllib.error.HTTPError as e:
                status, data, answer_headers = e.code, e.read(), e.headers
            if edit is not None:
                data = edit(self.command, self.path, status, data)
            recorder.requests.append((self.command, self.path, status))
            recorder.bodies.append(json.loads(body) if body else None)
            send_bytes(self, status, answer_headers.get("Content-Type", "application/json"), data)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    with serve_mock(Forward) as url:
        recorder.url = url
        yield recorder
