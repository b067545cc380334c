#!/usr/bin/env python3
"""Prints the figures of the edge module in real workerd: module size raw/gzip; cold start (workerd
start to the first MCP answer, median of 10); and per request, the wall time and the CPU time
workerd spent (its /proc utime+stime over 500 requests), for a tools/list and for tool calls.
Run it with scripts/bench.sh (which builds target/edge/ first), with the project's .venv python."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_edge import EDGE, start_edge  # noqa: E402  (the tests' way to run workerd)

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
SEARCH = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
          "params": {"name": "mist_search_operations", "arguments": {"query": "site device events"}}}
GET_SELF = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "getSelf"}}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "X-Mist-Token": "bench"}
TICKS = os.sysconf("SC_CLK_TCK")
N = 500


class Mist(BaseHTTPRequestHandler):
    """A Mist API that answers at once, so that the figures are the module's own."""

    def do_GET(self):
        body = json.dumps({"email": "bench@example.com", "privileges": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def workerd_pid(port: int) -> int:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(c.endswith(b"workerd") for c in cmd[:1]) and Path(proc / "cwd").resolve().joinpath("config.capnp").is_file():
                if f":{port}".encode() in (Path(proc / "cwd").resolve() / "config.capnp").read_bytes():
                    return int(proc.name)
    raise RuntimeError("workerd not found")


def post(conn: http.client.HTTPConnection, message: dict, session: str | None = None) -> bytes:
    headers = dict(HEADERS, **({"Mcp-Session-Id": session} if session else {}))
    conn.request("POST", "/mcp?cloud=api.mist.com", body=json.dumps(message), headers=headers)
    answer = conn.getresponse()
    body = answer.read()
    if answer.status != 200:
        raise RuntimeError(f"HTTP {answer.status}: {body[:200]!r}")
    return body


def cold_start_ms(upstream: str) -> float:
    started = time.perf_counter()
    gen = start_edge(upstream)
    url = next(gen)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", int(url.split(":")[2].split("/")[0]), timeout=30)
        post(conn, INIT)
        return (time.perf_counter() - started) * 1000
    finally:
        next(gen, None)


def per_request(conn, pid: int, message: dict, session: str | None) -> tuple[float, float]:
    walls = []
    cpu_before = cpu_seconds(pid)
    for _ in range(N):
        t = time.perf_counter()
        post(conn, message, session)
        walls.append((time.perf_counter() - t) * 1000)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / N
    return statistics.median(walls), cpu_ms


def main() -> None:
    wasm = (EDGE / "mistmcp_wasm_bg.wasm").read_bytes()
    print(f"module: {len(wasm):,} bytes raw, {len(gzip.compress(wasm, 9)):,} bytes gzip (budget 1.5 MB gzip)")
    mist = ThreadingHTTPServer(("127.0.0.1", 0), Mist)
    threading.Thread(target=mist.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{mist.server_address[1]}"
    runs = [cold_start_ms(upstream) for _ in range(10)]
    print(f"cold start, workerd start to the first initialize answer: median {statistics.median(runs):.0f} ms "
          f"(min {min(runs):.0f}, max {max(runs):.0f}, 10 runs)")
    gen = start_edge(upstream)
    url = next(gen)
    try:
        port = int(url.split(":")[2].split("/")[0])
        pid = workerd_pid(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/mcp?cloud=api.mist.com", body=json.dumps(INIT), headers=HEADERS)
        first = conn.getresponse()
        first.read()
        session = first.getheader("mcp-session-id")
        print(f"{'request (' + str(N) + ' each, one session)':<44} {'wall p50':>9} {'workerd CPU':>12}")
        for label, message in [("tools/list (managed, 5 tools)", LIST),
                               ("tools/call mist_search_operations", SEARCH),
                               ("tools/call getSelf (local Mist mock)", GET_SELF)]:
            wall, cpu = per_request(conn, pid, message, session)
            print(f"{label:<44} {wall:>6.2f} ms {cpu:>9.2f} ms")
        wall, cpu = per_request(conn, pid, LIST, None)
        print(f"{'tools/list without a session':<44} {wall:>6.2f} ms {cpu:>9.2f} ms")
        print("(workerd CPU includes its HTTP handling and, with a session, the Durable Object's storage)")
    finally:
        next(gen, None)
        mist.shutdown()


if __name__ == "__main__":
    main()
