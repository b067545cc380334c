#!/usr/bin/env python3
"""Prints the figures of mistmcp over stdio: start to initialize answer (median of 20 runs),
peak RSS of a session, and tools/list size per mode; the bytes of context and server CPU of
answers with secrets, as handles and shown (--show-secrets); and of mistcli: `mistcli sites list`
against a local mock, start to exit (median of 20). Run it with scripts/bench.sh."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/mistmcp")
CLI = os.path.join(os.path.dirname(BINARY), "mistcli")
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
ENV = {"PATH": os.environ.get("PATH", ""), "MIST_APITOKEN": "bench-token", "MIST_API_URL": "http://127.0.0.1:9"}


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([BINARY, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=ENV, cwd=tempfile.gettempdir(), bufsize=0)


def send(proc: subprocess.Popen, message: dict) -> None:
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def answer(proc: subprocess.Popen, request_id: int) -> bytes:
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server exited")
        if json.loads(line).get("id") == request_id:
            return line


def startup_ms() -> float:
    t0 = time.perf_counter()
    proc = start([])
    send(proc, INIT)
    answer(proc, 1)
    elapsed = (time.perf_counter() - t0) * 1000
    proc.stdin.close()
    proc.wait()
    return elapsed


def peak_rss_kib(proc: subprocess.Popen) -> int:
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(proc: subprocess.Popen) -> float:
    """User plus system CPU of the process so far, from /proc."""
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_call_ms(args: list[str], calls: int = 2000) -> float:
    """Server CPU per tools/call, answered without Mist (an operation described, and a getSelf
    that the dead upstream refuses at once): the MCP and visibility work of a call."""
    proc = start(args)
    send(proc, INIT)
    answer(proc, 1)
    send(proc, INITIALIZED)
    before = cpu_seconds(proc)
    for i in range(calls):
        name, arguments = (("mist_describe_operation", {"operation_id": "listOrgSites"}) if i % 2
                           else ("manageMcpTools", {}))
        send(proc, {"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
                    "params": {"name": name, "arguments": arguments}})
        answer(proc, 10 + i)
    used = cpu_seconds(proc) - before
    proc.stdin.close()
    proc.wait(10)
    return used * 1000 / calls


def status_kib(proc: subprocess.Popen, field: str) -> int:
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def session_figures(args: list[str]) -> tuple[int, int, int, int, int]:
    """tools/list bytes and tool count; then, after 50 calls, the peak RSS, and the RSS and its
    anonymous part once the server has been quiet for 2 s (it gives freed memory back)."""
    proc = start(args)
    send(proc, INIT)
    answer(proc, 1)
    send(proc, INITIALIZED)
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    line = answer(proc, 2)
    result = json.loads(line)["result"]
    size = len(json.dumps(result, separators=(",", ":")))
    calls = [("manageMcpTools", {}), ("mist_search_operations", {"query": "site device stats"}), ("getSelf", {})]
    for i in range(50):
        name, arguments = calls[i % len(calls)]
        send(proc, {"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
        answer(proc, 10 + i)
    peak = peak_rss_kib(proc)
    time.sleep(2)
    rss, anon = status_kib(proc, "VmRSS:"), status_kib(proc, "RssAnon:")
    proc.stdin.close()
    proc.wait()
    return size, len(result["tools"]), peak, rss, anon


class Sites(BaseHTTPRequestHandler):
    """A local Mist mock: a small list of sites, answered at once."""

    body = json.dumps([{"id": f"{i:08d}-0000-0000-0000-000000000000", "name": f"site-{i}"} for i in range(20)]).encode()

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def wlans(count: int) -> list[dict]:
    """WLANs as an org with PSK and 802.1X WLANs has them: a 16-character PSK on half of them,
    two RADIUS servers with 20-character secrets on the others."""
    out = []
    for i in range(count):
        wlan = {"id": f"{i:08d}-1111-2222-3333-444444444444", "ssid": f"corp-{i}", "enabled": True,
                "vlan_id": 100 + i, "band_steer": False, "interface": "all", "hide_ssid": False,
                "org_id": "6748cfa6-4e12-11e6-9188-0242ac110007", "template_id": None}
        if i % 2:
            wlan["auth"] = {"type": "psk", "psk": f"Psk{i:04d}-Secret!", "pairwise": ["wpa2-ccmp"]}
        else:
            wlan["auth"] = {"type": "eap", "pairwise": ["wpa2-ccmp"]}
            wlan["auth_servers"] = [{"host": f"10.0.{i % 250}.{n}", "port": 1812, "secret": f"Radius{i:04d}{n}-s3cret-xx"}
                                    for n in (1, 2)]
        out.append(wlan)
    return out


def secrets_figures() -> None:
    """Bytes of one listOrgWlans answer, and server CPU per call, with handles and with values."""
    body = json.dumps(wlans(100)).encode()

    class Wlans(Sites):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Wlans)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {**ENV, "MIST_API_URL": f"http://127.0.0.1:{httpd.server_address[1]}"}
    call = {"name": "listOrgWlans", "arguments": {"org_id": "6748cfa6-4e12-11e6-9188-0242ac110007"}}
    sizes = {}
    for label, extra in [("secrets as handles (default)", []), ("--show-secrets", ["--show-secrets"])]:
        proc = subprocess.Popen([BINARY, "-m", "custom", "-c", "orgs_wlans", *extra], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                cwd=tempfile.gettempdir(), bufsize=0)
        send(proc, INIT)
        answer(proc, 1)
        send(proc, INITIALIZED)
        send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
        text = json.loads(answer(proc, 2))["result"]["content"][0]["text"]
        sizes[label] = len(text.encode())
        before = cpu_seconds(proc)
        for i in range(200):
            send(proc, {"jsonrpc": "2.0", "id": 100 + i, "method": "tools/call", "params": call})
            answer(proc, 100 + i)
        used = (cpu_seconds(proc) - before) * 1000 / 200
        proc.stdin.close()
        proc.wait(10)
        print(f"listOrgWlans, 100 WLANs with 150 secrets, {label:<29}: {sizes[label]:>7,} bytes of context, "
              f"{used:.3f} ms server CPU per call (200 calls)")
    httpd.shutdown()
    handles, shown = sizes["secrets as handles (default)"], sizes["--show-secrets"]
    print(f"handles change the answer by {handles - shown:+,} bytes ({(handles - shown) * 100 / shown:+.1f} %)")


def cli_figures() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Sites)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {"PATH": os.environ.get("PATH", ""), "MIST_APITOKEN": "bench-token",
           "MIST_API_URL": f"http://127.0.0.1:{httpd.server_address[1]}",
           "MIST_ORG_ID": "6748cfa6-4e12-11e6-9188-0242ac110007", "MISTCLI_CONFIG": "/nonexistent"}

    def once() -> float:
        t0 = time.perf_counter()
        subprocess.run([CLI, "sites", "list"], env=env, cwd=tempfile.gettempdir(), check=True, capture_output=True)
        return (time.perf_counter() - t0) * 1000

    once()
    runs = sorted(once() for _ in range(20))
    httpd.shutdown()
    print(f"mistcli sites list against a local mock, start to exit: median {statistics.median(runs):.1f} ms, "
          f"min {runs[0]:.1f} ms, max {runs[-1]:.1f} ms (20 runs; target < 15 ms)")
    # One Tab as bash's script asks it (`COMPLETE=bash mistcli -- <words>`): the program builds the
    # resource at hand and answers. Three cases: a resource name, a verb, an enum value.
    tabs = {"mistcli dev<Tab>": ["mistcli", "dev"], "mistcli devices sea<Tab>": ["mistcli", "devices", "sea"],
            "mistcli devices search --type <Tab>": ["mistcli", "devices", "search", "--type", ""]}
    for label, words in tabs.items():
        tab_env = {**env, "COMPLETE": "bash", "_CLAP_COMPLETE_INDEX": str(len(words) - 1),
                   "_CLAP_COMPLETE_COMP_TYPE": "9", "_CLAP_COMPLETE_SPACE": "true", "_CLAP_IFS": "\n"}

        def tab() -> float:
            t0 = time.perf_counter()
            done = subprocess.run([CLI, "--", *words], env=tab_env, capture_output=True, check=True)
            elapsed = (time.perf_counter() - t0) * 1000
            assert done.stdout.strip(), f"no completion for {label}"
            return elapsed

        tab()
        runs = sorted(tab() for _ in range(20))
        print(f"one Tab, {label:<37}: median {statistics.median(runs):.1f} ms, max {runs[-1]:.1f} ms "
              f"(20 runs; target < 50 ms)")


def main() -> None:
    startup_ms()  # warm the page cache
    runs = sorted(startup_ms() for _ in range(20))
    print(f"binary: {BINARY} ({os.path.getsize(BINARY) / 1e6:.1f} MB)")
    print(f"start to initialize answer: median {statistics.median(runs):.1f} ms, "
          f"min {runs[0]:.1f} ms, max {runs[-1]:.1f} ms (20 runs; target < 20 ms)")
    print("after tools/list and 50 calls: peak RSS; RSS 2 s later (anonymous + the binary's mapped pages)")
    print(f"{'mode':<28} {'tools':>6} {'tools/list bytes':>17} {'peak RSS':>10} {'RSS':>9} {'anonymous':>10}")
    worst = 0
    for label, args in [("minimal", ["-m", "minimal"]), ("managed (default)", []),
                        ("custom orgs_sites,sites_*", ["-m", "custom", "-c", "orgs_sites,sites_*"]),
                        ("all", ["-m", "all"])]:
        size, count, peak, rss, anon = session_figures(args)
        worst = max(worst, rss)
        print(f"{label:<28} {count:>6} {size:>17,} {peak / 1024:>7.1f} MB {rss / 1024:>6.1f} MB {anon / 1024:>7.1f} MB")
    print(f"RSS over all modes: {worst / 1024:.1f} MB (target: 15 MB in the all mode); managed manifest target < 6 KB")
    for label, args in [("managed", []), ("all", ["-m", "all"])]:
        print(f"server CPU per tools/call ({label}, 2000 local calls): {cpu_per_call_ms(args):.3f} ms")
    secrets_figures()
    if os.path.exists(CLI):
        cli_figures()


if __name__ == "__main__":
    main()
