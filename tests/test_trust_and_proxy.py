"""A private CA and a corporate proxy (issue 18, item 5): a throwaway CA made with the openssl CLI at
test time signs the certificate of a TLS Mist of our own (the REST side and the WebSocket stream);
a CONNECT proxy of our own (threads and sockets, below) records what it tunnels and may ask for
credentials. mistcli and mistmcp must refuse the certificate until SSL_CERT_FILE or SSL_CERT_DIR
names the CA, go through HTTPS_PROXY (NO_PROXY bypassing it) for the API and for a device
command's stream, and never show the proxy's password."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import websockets

from conftest import QuietHandler, built_binary, result_text, send_json, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio

TOKEN = "trust-token-5d1e8a"
SITE = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f"
DEVICE = "00000000-0000-0000-1000-5c5b35000001"
# A name no resolver knows: only the proxy (which sends every host to 127.0.0.1) can reach it,
# so an answer proves the request went through the proxy.
PROXIED_HOST = "mist.proxied.test"
PROXY_USER, PROXY_PASSWORD = "ops", "Pr0xy-s3cret!x"
PROXY_BASIC = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
SELF = {"email": "ops@example.com", "privileges": [
    {"scope": "org", "org_id": "6748cfa6-4e12-11e6-9188-0242ac110007", "role": "admin", "name": "Org"}]}


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki():
    """ca.pem (the test CA), a hashed SSL_CERT_DIR holding it, and the server's cert and key
    (for localhost, 127.0.0.1 and PROXIED_HOST), signed by the CA."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
        curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *curve, "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-subj", "/CN=mistmcp test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-new", *curve, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
        ext = d / "server.ext"
        ext.write_text(f"subjectAltName=DNS:localhost,DNS:{PROXIED_HOST},IP:127.0.0.1\n"
                       "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
                "-out", str(cert), "-days", "2", "-extfile", str(ext))
        # SSL_CERT_DIR the way c_rehash / `openssl rehash` lay it out: <subject hash>.0
        cert_dir = d / "certs"
        cert_dir.mkdir()
        subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(ca)], check=True,
                                      capture_output=True, text=True).stdout.strip()
        shutil.copy(ca, cert_dir / f"{subject_hash}.0")
        yield {"ca": ca, "dir": cert_dir, "cert": cert, "key": key, "tmp": d}


def server_context(pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki["cert"]), str(pki["key"]))
    return context


class TlsMist:
    """The REST side of Mist (GET /self, the POST that starts a ping) and its WebSocket stream,
    both over TLS with the test CA's certificate, on free loopback ports."""

    def __init__(self, pki):
        self.calls: list[tuple[str, str, str | None]] = []
        self.stream_auth: list[str | None] = []
        mist = self

        class Handler(QuietHandler):
            def do_GET(self):
                mist.calls.append(("GET", self.path, self.headers.get("Authorization")))
                send_json(self, 200, SELF)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                mist.calls.append(("POST", self.path, self.headers.get("Authorization")))
                send_json(self, 200, {"session": "tls-sess"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = server_context(pki)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.api_port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Future | None = None
        started = threading.Event()
        ports: list[int] = []

        async def serve(ws):
            self.stream_auth.append(ws.request.headers.get("Authorization"))
            async for message in ws:
                channel = json.loads(message).get("subscribe")
                if channel:
                    await ws.send(json.dumps({"event": "channel_subscribed", "channel": channel}))
                    for raw in ["PING 8.8.8.8 (8.8.8.8): 56 data bytes\n", "64 bytes from 8.8.8.8: icmp_seq=0 time=4.1 ms\n"]:
                        await ws.send(json.dumps({"event": "data", "channel": channel,
                                                  "data": {"session": "tls-sess", "raw": raw}}))

        def run():
            asyncio.set_event_loop(self.loop)

            async def main():
                self.stop = asyncio.get_running_loop().create_future()
                async with websockets.serve(serve, "127.0.0.1", 0, ssl=server_context(pki)) as server:
                    ports.append(server.sockets[0].getsockname()[1])
                    started.set()
                    await self.stop

            self.loop.run_until_complete(main())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10), "the TLS WebSocket server did not start"
        self.stream_port = ports[0]

    def api_url(self, host: str = "localhost") -> str:
        return f"https://{host}:{self.api_port}"

    def stream_url(self, host: str = "localhost") -> str:
        return f"wss://{host}:{self.stream_port}/api-ws/v1/stream"

    def close(self):
        self.httpd.shutdown()
        self.loop.call_soon_threadsafe(self.stop.set_result, None)
        self.thread.join(10)


@pytest.fixture(scope="module")
def mist(pki):
    server = TlsMist(pki)
    yield server
    server.close()


class ConnectProxy:
    """An HTTP CONNECT proxy on a free loopback port: records (host:port, Proxy-Authorization) of
    every CONNECT, sends every tunnel to 127.0.0.1 (so PROXIED_HOST resolves only here), answers
    407 when `credentials` are required and not sent; other methods get a 405."""

    def __init__(self, credentials: str | None = None):
        self.credentials = credentials
        self.tunnels: list[tuple[str, str | None]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        with contextlib.closing(client):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            authorization = headers.get("proxy-authorization")
            self.tunnels.append((target, authorization))
            if self.credentials is not None and authorization != f"Basic {self.credentials}":
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                               b"Content-Length: 0\r\n\r\n")
                return
            port = int(target.rsplit(":", 1)[1])
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with contextlib.closing(upstream):
                upstream.settimeout(None)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._pipe(client, upstream)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket):
        peers = {a: b, b: a}
        while True:
            readable, _, _ = select.select(list(peers), [], [], 60)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                peers[s].sendall(data)

    def hosts(self) -> list[str]:
        return [t for t, _ in self.tunnels]

    def close(self):
        self.listener.close()


@pytest.fixture
def proxy():
    p = ConnectProxy()
    yield p
    p.close()


def cli(args: list[str], api_url: str, **env: str) -> subprocess.CompletedProcess:
    """mistcli in a scratch directory with a clean environment (no proxy or CA of the machine)."""
    e = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(), "MISTCLI_CONFIG": "/nonexistent",
         "MIST_APITOKEN": TOKEN, "MIST_API_URL": api_url, **env}
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([built_binary("mistcli"), *args], capture_output=True, text=True, env=e, cwd=cwd, timeout=60)


def trust_variants(pki) -> dict[str, dict[str, str]]:
    return {"SSL_CERT_FILE": {"SSL_CERT_FILE": str(pki["ca"])}, "SSL_CERT_DIR": {"SSL_CERT_DIR": str(pki["dir"])}}


# (a) the private CA


def test_mistcli_refuses_an_unknown_ca_and_trusts_it_by_file_or_directory(mist, pki):
    refused = cli(["self", "get"], mist.api_url())
    assert refused.returncode != 0 and refused.stdout == ""
    assert "certificate" in refused.stderr and "not trusted" in refused.stderr, refused.stderr
    assert "UnknownIssuer" in refused.stderr and "SSL_CERT_FILE" in refused.stderr, refused.stderr
    for variable, env in trust_variants(pki).items():
        r = cli(["self", "get"], mist.api_url(), **env)
        assert r.returncode == 0, f"{variable}: {r.stderr}"
        assert json.loads(r.stdout)["email"] == "ops@example.com"
    assert ("GET", "/api/v1/self", f"Token {TOKEN}") in mist.calls


async def test_mistmcp_refuses_an_unknown_ca_and_trusts_it_by_file_or_directory(mistmcp_bin, mist, pki):
    env = server_env(mist.api_url(), token=TOKEN)
    async with connect(mistmcp_bin, [], env=env) as c:
        refused = await c.call("getSelf")
        text = result_text(refused)
        assert refused.is_error and "not trusted" in text and "SSL_CERT_FILE" in text, text
    for variable, extra in trust_variants(pki).items():
        async with connect(mistmcp_bin, [], env={**env, **extra}) as c:
            me = await c.call("getSelf")
            assert not me.is_error, f"{variable}: {result_text(me)}"
            assert "ops@example.com" in result_text(me)


def test_unusable_cert_files_stop_with_the_file_named(mist, pki):
    missing = pki["tmp"] / "no-such-ca.pem"
    r = cli(["self", "get"], mist.api_url(), SSL_CERT_FILE=str(missing))
    assert r.returncode != 0 and "SSL_CERT_FILE" in r.stderr and str(missing) in r.stderr, r.stderr
    not_pem = pki["tmp"] / "server.ext"
    r = cli(["self", "get"], mist.api_url(), SSL_CERT_FILE=str(not_pem))
    assert r.returncode != 0 and "holds no PEM certificate" in r.stderr and str(not_pem) in r.stderr, r.stderr


def test_mistmcp_validate_config_reports_an_unusable_cert_file(mistmcp_bin, pki):
    missing = pki["tmp"] / "no-such-ca.pem"
    with tempfile.TemporaryDirectory() as cwd:
        r = subprocess.run([mistmcp_bin, "--validate-config"], capture_output=True, text=True, cwd=cwd, timeout=60,
                           env=server_env(None, token=TOKEN, SSL_CERT_FILE=str(missing)))
    assert r.returncode != 0 and str(missing) in r.stderr and "SSL_CERT_FILE" in r.stderr, r.stderr


# (b) the proxy for the API


def test_https_proxy_carries_the_api_and_no_proxy_bypasses_it(mist, pki, proxy):
    env = {"SSL_CERT_FILE": str(pki["ca"]), "HTTPS_PROXY": proxy.url}
    through = cli(["self", "get"], mist.api_url(PROXIED_HOST), **env)
    assert through.returncode == 0, through.stderr
    assert proxy.hosts() == [f"{PROXIED_HOST}:{mist.api_port}"]
    # The lowercase variable, as curl reads it.
    lower = cli(["self", "get"], mist.api_url(PROXIED_HOST), SSL_CERT_FILE=str(pki["ca"]), https_proxy=proxy.url)
    assert lower.returncode == 0, lower.stderr
    assert len(proxy.tunnels) == 2
    for no_proxy in ["localhost", ".localhost", "*", f"localhost:{mist.api_port}", "example.com,localhost"]:
        direct = cli(["self", "get"], mist.api_url(), NO_PROXY=no_proxy, **env)
        assert direct.returncode == 0, f"{no_proxy}: {direct.stderr}"
    assert len(proxy.tunnels) == 2, proxy.tunnels
    # NO_PROXY for another port of the same host does not bypass it.
    other_port = cli(["self", "get"], mist.api_url(), NO_PROXY=f"localhost:{mist.api_port + 1}", **env)
    assert other_port.returncode == 0, other_port.stderr
    assert proxy.hosts()[-1] == f"localhost:{mist.api_port}"


async def test_mistmcp_goes_through_the_proxy(mistmcp_bin, mist, pki, proxy):
    env = server_env(mist.api_url(PROXIED_HOST), token=TOKEN, SSL_CERT_FILE=str(pki["ca"]), HTTPS_PROXY=proxy.url)
    async with connect(mistmcp_bin, [], env=env) as c:
        me = await c.call("getSelf")
        assert not me.is_error, result_text(me)
    assert proxy.hosts() == [f"{PROXIED_HOST}:{mist.api_port}"]


def test_a_proxy_that_refuses_is_named_in_the_error(mist, pki, proxy):
    proxy.credentials = PROXY_BASIC
    r = cli(["self", "get"], mist.api_url(PROXIED_HOST), SSL_CERT_FILE=str(pki["ca"]), HTTPS_PROXY=proxy.url)
    assert r.returncode != 0 and r.stdout == ""
    assert "proxy authorization required" in r.stderr and f"through the proxy {proxy.url}" in r.stderr, r.stderr
    down = cli(["self", "get"], mist.api_url(PROXIED_HOST), SSL_CERT_FILE=str(pki["ca"]), HTTPS_PROXY="http://127.0.0.1:1")
    assert down.returncode != 0 and "through the proxy http://127.0.0.1:1" in down.stderr, down.stderr


def test_unsupported_proxy_urls_are_refused_without_their_password(mist, pki):
    r = cli(["self", "get"], mist.api_url(), HTTPS_PROXY=f"socks5://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:1")
    assert r.returncode != 0 and "HTTPS_PROXY" in r.stderr and "socks5" in r.stderr, r.stderr
    assert PROXY_PASSWORD not in r.stderr + r.stdout


# (c) the WebSocket stream of a device command


def test_a_device_command_streams_through_the_proxy_with_the_private_ca(mist, pki, proxy):
    args = ["devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8", "--timeout-seconds", "1"]
    env = {"SSL_CERT_FILE": str(pki["ca"]), "HTTPS_PROXY": proxy.url, "MIST_WS_URL": mist.stream_url(PROXIED_HOST)}
    r = cli(args, mist.api_url(PROXIED_HOST), **env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PING 8.8.8.8") and "icmp_seq=0" in r.stdout, r.stdout
    assert sorted(proxy.hosts()) == sorted([f"{PROXIED_HOST}:{mist.api_port}", f"{PROXIED_HOST}:{mist.stream_port}"])
    assert mist.stream_auth[-1] == f"Token {TOKEN}"
    # Without the CA the stream's certificate is refused, with the same hint as the API's.
    no_ca = cli(args, mist.api_url(PROXIED_HOST), HTTPS_PROXY=proxy.url, MIST_WS_URL=mist.stream_url(PROXIED_HOST))
    assert no_ca.returncode != 0 and "not trusted" in no_ca.stderr, no_ca.stderr


def test_no_proxy_sends_the_stream_directly(mist, pki, proxy):
    args = ["devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8", "--timeout-seconds", "1"]
    env = {"SSL_CERT_DIR": str(pki["dir"]), "HTTPS_PROXY": proxy.url, "NO_PROXY": "localhost",
           "MIST_WS_URL": mist.stream_url()}
    r = cli(args, mist.api_url(), **env)
    assert r.returncode == 0, r.stderr
    assert "icmp_seq=0" in r.stdout and proxy.tunnels == []


# (d) the proxy's credentials


def test_proxy_credentials_are_sent_and_never_shown(mist, pki, proxy):
    proxy.credentials = PROXY_BASIC
    args = ["devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8", "--timeout-seconds", "1"]
    good = f"http://{PROXY_USER}:{PROXY_PASSWORD.replace('!', '%21')}@127.0.0.1:{proxy.port}"
    env = {"SSL_CERT_FILE": str(pki["ca"]), "HTTPS_PROXY": good, "MIST_WS_URL": mist.stream_url(PROXIED_HOST),
           "MISTMCP_LOG": "trace"}
    r = cli(args, mist.api_url(PROXIED_HOST), **env)
    assert r.returncode == 0, r.stderr
    assert [a for _, a in proxy.tunnels] == [f"Basic {PROXY_BASIC}"] * 2
    outputs = [r.stdout + r.stderr]
    # Refused credentials, for the API and for the stream alone: errors that name the proxy, not the password.
    wrong = f"http://{PROXY_USER}:{PROXY_PASSWORD}x@127.0.0.1:{proxy.port}"
    refused = cli(["self", "get"], mist.api_url(PROXIED_HOST), **{**env, "HTTPS_PROXY": wrong})
    assert refused.returncode != 0
    outputs.append(refused.stdout + refused.stderr)
    stream_only = cli(args, mist.api_url(), **{**env, "HTTPS_PROXY": wrong, "NO_PROXY": "localhost"})
    assert stream_only.returncode != 0 and "407" in stream_only.stderr and f"127.0.0.1:{proxy.port}" in stream_only.stderr, \
        stream_only.stderr
    outputs.append(stream_only.stdout + stream_only.stderr)
    for text in outputs:
        assert PROXY_PASSWORD not in text and PROXY_PASSWORD.replace("!", "%21") not in text
        assert PROXY_BASIC not in text and "Basic " not in text, text
        assert TOKEN not in text


async def test_mistmcp_never_logs_the_proxy_credentials(mistmcp_bin, mist, pki, proxy):
    proxy.credentials = PROXY_BASIC
    url = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
    env = server_env(mist.api_url(PROXIED_HOST), token=TOKEN, SSL_CERT_FILE=str(pki["ca"]), HTTPS_PROXY=url,
                     MIST_WS_URL=mist.stream_url(PROXIED_HOST), MISTMCP_LOG="trace")
    async with connect(mistmcp_bin, [], env=env) as c:
        me = await c.call("getSelf")
        assert not me.is_error, result_text(me)
        logs = c.stderr()
    assert proxy.tunnels and all(a == f"Basic {PROXY_BASIC}" for _, a in proxy.tunnels)
    assert PROXY_PASSWORD not in logs and PROXY_BASIC not in logs and TOKEN not in logs
