"""Issue 14: attacks as a stranger would run them, against the real binaries and local mocks.

Where the token goes (a `.env`, an env file or a profile cannot redirect another source's token),
confirmations that cannot be forged, replayed or lent (natively and on the edge), an endless
answer on the edge, and connections strangers hold open or stall. The other defects of the issue
are tested beside the features they harden (test_http, test_writes, test_devices, test_mistcli,
test_client_expectations)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import ORG_ID, QuietHandler, TOKEN, built_binary, memory_watchdog, send_json, serve_mock, server_env
from test_bad_input import RawServer
from test_writes import proxy  # noqa: F401 (a fixture: a counting proxy in front of Prism)

SITE = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f"
DEVICE = "00000000-0000-0000-1000-5c5b35000001"


class Recorder:
    """An attacker's listener: records every byte any client sends it, answers nothing."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        with conn:
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                while data := conn.recv(65536):
                    with self.lock:
                        self.received += data

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def close(self):
        self.sock.close()


@pytest.fixture()
def attacker():
    r = Recorder()
    yield r
    r.close()


class Mist(QuietHandler):
    """The real cloud stand-in: records the Authorization header of every call."""

    seen: list[str] = []

    def do_GET(self):
        Mist.seen.append(self.headers.get("Authorization", ""))
        send_json(self, 200, {"email": "me@example.com", "privileges": []})

    do_POST = do_GET


@pytest.fixture()
def mist():
    Mist.seen = []
    with serve_mock(Mist) as url:
        yield url


def mistcli(args, env: dict, files: dict[str, str] | None = None, timeout: float = 60):
    """mistcli in a scratch directory holding `files`, with only `env`."""
    e = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(), "MISTCLI_CONFIG": "/nonexistent", **env}
    with tempfile.TemporaryDirectory() as cwd:
        for name, text in (files or {}).items():
            Path(cwd, name).write_text(text)
        return subprocess.run([built_binary("mistcli"), *args], capture_output=True, text=True, env=e, cwd=cwd,
                              timeout=timeout)


def text_of(answer: dict) -> str:
    return "\n".join(c.get("text", "") for c in answer.get("result", {}).get("content", []))


# 2. A `.env` in the working directory, or another source, cannot redirect a token.

def test_a_dot_env_cannot_send_the_environments_token_elsewhere(mistmcp_bin, attacker):
    env = server_env(token=TOKEN, MISTMCP_REQUEST_TIMEOUT="5")
    server = RawServer(mistmcp_bin, [], env, files={".env": f"MIST_API_URL={attacker.url()}\n"})
    server.initialize()
    answer = server.call("getSelf")
    server.close()
    # The token goes to the environment's cloud (api.mist.com, unreachable here), never to ./.env's.
    assert answer["result"]["isError"] and "api.mist.com" in text_of(answer), answer
    assert attacker.received == b""


def test_a_dot_env_cannot_send_the_environments_token_to_its_stream(attacker, mist):
    files = {".env": f"MIST_WS_URL={attacker.url('ws')}/stream\n"}
    r = mistcli(["devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8", "--timeout-seconds", "1"],
                {"MIST_APITOKEN": TOKEN, "MIST_API_URL": mist}, files)
    assert TOKEN.encode() not in attacker.received and attacker.received == b"", r.stderr
    assert Mist.seen == [f"Token {TOKEN}"]  # the ping itself went to the token's own cloud


def test_a_dot_env_with_token_and_url_is_used_whole(mistmcp_bin, mist):
    server = RawServer(mistmcp_bin, [], server_env(token=None),
                       files={".env": f"MIST_APITOKEN=dotenv-token\nMIST_API_URL={mist}\n"})
    server.initialize()
    answer = server.call("getSelf")
    server.close()
    assert not answer["result"].get("isError"), answer
    assert Mist.seen == ["Token dotenv-token"]
    dot_env = f"MIST_APITOKEN=file-token\nMIST_API_URL={mist}\n"
    r = mistcli(["self", "get"], {}, {".env": dot_env})
    assert r.returncode == 0, r.stderr
    with tempfile.NamedTemporaryFile("w", suffix=".env") as f:
        f.write(dot_env)
        f.flush()
        r = mistcli(["self", "get", "--env-file", f.name], {})
        assert r.returncode == 0, r.stderr
    assert Mist.seen == ["Token dotenv-token", "Token file-token", "Token file-token"]


def test_a_profiles_token_never_goes_to_a_url_from_elsewhere(attacker, mist, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'default = "lab"\n[profiles.lab]\ntoken = "profile-token"\napi_url = "{mist}"\n')
    base = {"MISTCLI_CONFIG": str(config), "MIST_ORG_ID": ORG_ID}
    for env, args in [({"MIST_API_URL": attacker.url()}, []), ({}, ["--api-url", attacker.url()]),
                      ({}, ["--profile", "lab", "--api-url", attacker.url()])]:
        r = mistcli(["self", "get", *args], {**base, **env})
        assert r.returncode == 2 and "a token is only sent where its own source says" in r.stderr, (env, args, r.stderr)
    # ./.env naming only a URL is not read at all when the default profile has a token.
    r = mistcli(["self", "get"], base, {".env": f"MIST_API_URL={attacker.url()}\n"})
    assert r.returncode == 0, r.stderr
    assert attacker.received == b"" and Mist.seen == ["Token profile-token"]


def test_a_chosen_env_file_cannot_redirect_the_environments_token(mistmcp_bin, attacker, tmp_path):
    env_file = tmp_path / "other.env"
    env_file.write_text(f"MIST_API_URL={attacker.url()}\n")
    r = subprocess.run([mistmcp_bin, "--env-file", str(env_file)], input="", capture_output=True, text=True,
                       env=server_env(token=TOKEN), timeout=30)
    assert r.returncode != 0 and "holds no MIST_APITOKEN" in r.stderr, r.stderr
    r = mistcli(["self", "get", "--env-file", str(env_file)], {"MIST_APITOKEN": TOKEN})
    assert r.returncode == 2 and "holds no MIST_APITOKEN" in r.stderr, r.stderr
    assert attacker.received == b""


# 3. Sessionless confirmations cannot be forged, replayed, or used by another token.

def old_digest(name: str, arguments: dict) -> str:
    """The requestState of before: a SHA-256 any client could compute."""
    import hashlib

    def canonical(v):
        if isinstance(v, dict):
            return "{" + ",".join(f"{json.dumps(k)}:{canonical(v[k])}" for k in sorted(v)) + "}"
        if isinstance(v, list):
            return "[" + ",".join(canonical(i) for i in v) + "]"
        return json.dumps(v, separators=(",", ":"))

    return hashlib.sha256(canonical({"name": name, "arguments": arguments}).encode()).hexdigest()


def stateless_caller(url: str, token: str):
    import httpx2
    from test_edge import HEADERS, STATELESS

    meta = {"io.modelcontextprotocol/protocolVersion": STATELESS,
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}
    headers = {**HEADERS, "MCP-Protocol-Version": STATELESS, "Mcp-Method": "tools/call", "Mcp-Name": "createOrgWlan",
               "X-Mist-Token": token}
    client = httpx2.Client(timeout=30)

    def call(arguments, **extra):
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "createOrgWlan", "arguments": arguments, "_meta": meta, **extra}}
        r = client.post(url, json=body, headers=headers)
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            events = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip()]
            return [e for e in events if e.get("id") == 1][-1]["result"]
        return r.json()["result"]

    return call


ACCEPT = {"confirm": {"action": "accept", "content": {"confirm": True}}}


@pytest.mark.parametrize("kind", ["native", "edge"])
def test_confirmations_cannot_be_forged_replayed_or_lent(kind, mistmcp_bin, proxy):  # noqa: F811
    from test_edge import WLAN, write_server

    with write_server(kind, mistmcp_bin, proxy.url) as url:
        alice, bob = stateless_caller(url, "alice-token"), stateless_caller(url, "bob-token")
        # Never issued: the digest of the call, as a client could compute it.
        for forged in [old_digest("createOrgWlan", WLAN), "0" * 32 + ".9999999999." + "0" * 64, "x" * 10_000]:
            answer = alice(WLAN, inputResponses=ACCEPT, requestState=forged)
            assert answer["resultType"] == "input_required", answer
        assert proxy.writes() == []
        # Issued to alice: bob cannot use it, alice can, once.
        state = alice(WLAN)["requestState"]
        assert bob(WLAN, inputResponses=ACCEPT, requestState=state)["resultType"] == "input_required"
        assert proxy.writes() == []
        done = alice(WLAN, inputResponses=ACCEPT, requestState=state)
        assert done["resultType"] == "complete" and not done["isError"], done
        for _ in range(3):
            replay = alice(WLAN, inputResponses=ACCEPT, requestState=state)
            assert replay["resultType"] == "input_required", replay
            assert "already used" in replay["inputRequests"]["confirm"]["params"]["message"]
        assert proxy.writes() == [("POST", f"/api/v1/orgs/{ORG_ID}/wlans", 200)]


def test_edge_isolates_sharing_the_secret_binding_accept_each_others_states(proxy):  # noqa: F811
    from test_edge import WLAN, start_edge

    def edge(secret):
        return start_edge(proxy.url, **{"@WRITE_TOOLS@": "true", "@MIST_HOST@": "api.mist.com", "@CONFIRM_SECRET@": secret})

    one, two, other = edge("s3cret-binding"), edge("s3cret-binding"), edge("another-secret")
    try:
        urls = [f"{next(g)}?mode=custom&categories=orgs_wlans" for g in (one, two, other)]
        first, second, third = (stateless_caller(u, "alice-token") for u in urls)
        state = first(WLAN)["requestState"]
        assert third(WLAN, inputResponses=ACCEPT, requestState=state)["resultType"] == "input_required"
        assert proxy.writes() == []
        assert second(WLAN, inputResponses=ACCEPT, requestState=state)["resultType"] == "complete"
        assert proxy.writes() == [("POST", f"/api/v1/orgs/{ORG_ID}/wlans", 200)]
    finally:
        for g in (one, two, other):
            with contextlib.suppress(StopIteration):
                next(g)


# 4. An answer from Mist is read as a stream with a cap, on the edge too (natively:
#    test_client_expectations.py::test_an_endless_upstream_answer_is_cut_at_the_limit).

def test_an_endless_upstream_answer_is_cut_on_the_edge():
    from test_client_expectations import EndlessBody, peak_rss_mib
    from test_edge import start_edge
    import httpx2

    with serve_mock(EndlessBody) as upstream:
        gen = start_edge(upstream, **{"@MIST_HOST@": "api.mist.com", "@MAX_UPSTREAM_BYTES@": str(8 << 20)})
        try:
            url = next(gen)
            workerd = [p for p in psutil_children() if "workerd" in p[1]]
            headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                       "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "getSelf",
                       "X-Mist-Token": "t"}
            meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}, "_meta": meta}}
            with memory_watchdog([pid for pid, _ in workerd], 2048) as killed:
                for _ in range(3):
                    answer = httpx2.post(url, json=body, headers=headers, timeout=60).json()["result"]
                    text = answer["content"][0]["text"]
                    assert answer["isError"] and "too large" in text and "MISTMCP_MAX_UPSTREAM_BYTES" in text, text
            assert not killed, killed
            assert workerd and max(peak_rss_mib(pid) for pid, _ in workerd) < 400
        finally:
            with contextlib.suppress(StopIteration):
                next(gen)


def psutil_children() -> list[tuple[int, str]]:
    """(pid, command line) of this test process's descendants, from /proc."""
    me, found, parents = os.getpid(), [], {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family = {me}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    for pid in family - {me}:
        with contextlib.suppress(OSError):
            found.append((pid, Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
    return found


# 5. Connections: timeouts, and a cap below the descriptor limit that strangers cannot fill.

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "real", "version": "1"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "X-Mist-Token": "t"}


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed `sock` within `seconds`, and what it sent before."""
    import time

    sock.settimeout(0.5)
    got, until = b"", time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionError:
            return True, got
        if not data:
            return True, got
        got += data
    return False, got


def test_idle_sockets_never_keep_a_real_client_out(mistmcp_bin, mist):
    import time
    import httpx2
    from http_support import HttpServer

    server = HttpServer(mistmcp_bin, [], env=server_env(mist, token=None, MIST_HOST="api.mist.com"),
                        wrapper=("prlimit", "--nofile=256:256"))
    held = []
    try:
        for _ in range(300):
            held.append(socket.create_connection(("127.0.0.1", server.port)))
        for attempt in range(3):
            started = time.monotonic()
            r = httpx2.post(f"{server.url}?cloud=api.mist.com", json=INIT, headers=MCP_HEADERS, timeout=30)
            elapsed = time.monotonic() - started
            assert r.status_code == 200 and "protocolVersion" in r.text, (attempt, r.status_code, r.text[:300])
            assert elapsed < 5, f"initialize took {elapsed:.1f} s behind 300 idle sockets"
            # The strangers come back as fast as they are closed.
            held.append(socket.create_connection(("127.0.0.1", server.port)))
        assert "Too many open files" not in server.text()
    finally:
        for s in held:
            s.close()
        server.stop()


def test_stalled_and_silent_connections_are_closed(mistmcp_bin, mist):
    from http_support import HttpServer

    timeouts = {"MISTMCP_HEADER_TIMEOUT": "2s", "MISTMCP_BODY_TIMEOUT": "2s", "MISTMCP_KEEP_ALIVE_TIMEOUT": "3s"}
    server = HttpServer(mistmcp_bin, [], env=server_env(mist, token=None, MIST_HOST="api.mist.com", **timeouts))
    try:
        port = server.port
        silent = socket.create_connection(("127.0.0.1", port))
        mid_headers = socket.create_connection(("127.0.0.1", port))
        mid_headers.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
        mid_body = socket.create_connection(("127.0.0.1", port))
        body = json.dumps(INIT).encode()
        mid_body.sendall(b"POST /mcp?cloud=api.mist.com HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Accept: application/json, text/event-stream\r\nX-Mist-Token: t\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:10]))
        kept_alive = socket.create_connection(("127.0.0.1", port))
        kept_alive.sendall(b"DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Mist-Token: t\r\nMcp-Session-Id: none\r\n\r\n")
        for name, sock in [("silent", silent), ("mid-headers", mid_headers), ("mid-body", mid_body),
                           ("kept alive after an answer", kept_alive)]:
            closed, sent = closed_within(sock, 20)
            assert closed, f"a {name} connection was kept open"
            if name == "mid-body":
                assert b" 408 " in sent.split(b"\r\n")[0] and b"did not come" in sent, sent
            if name == "kept alive after an answer":
                assert sent.startswith(b"HTTP/1.1 "), sent
            sock.close()
    finally:
        server.stop()


def test_https_serves_and_times_out_handshakes(mistmcp_bin, mist, tmp_path):
    """The same accept loop behind TLS (rustls): a real client is served, a socket that never
    starts its handshake is closed."""
    import httpx2
    from http_support import HttpServer

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    env = server_env(mist, token=None, MIST_HOST="api.mist.com", MISTMCP_HEADER_TIMEOUT="2s")
    server = HttpServer(mistmcp_bin, ["--tls-cert", str(cert), "--tls-key", str(key)], env=env)
    try:
        silent = socket.create_connection(("127.0.0.1", server.port))
        url = f"https://127.0.0.1:{server.port}/mcp?cloud=api.mist.com"
        import ssl

        trust = ssl.create_default_context(cafile=str(cert))
        r = httpx2.post(url, json=INIT, headers=MCP_HEADERS, timeout=30, verify=trust)
        assert r.status_code == 200 and "protocolVersion" in r.text, r.text[:300]
        assert closed_within(silent, 20)[0], "a socket that never started TLS was kept open"
    finally:
        server.stop()
