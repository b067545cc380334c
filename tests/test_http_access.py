"""Access control of the HTTP server: server tokens (create, list, revoke without restart),
the Mist token bound to a server token, Origin/Host checks, body limit, fail-closed binding,
and no secret in any log line."""

from __future__ import annotations

import os
import subprocess
import tempfile

import httpx2
import pytest

from conftest import result_json
from http_support import EchoMist, HttpServer, echo_mist, http_session

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def tokens_cmd(binary, store, *args):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}
    return subprocess.run([binary, "--tokens-file", str(store), "tokens", *args],
                          capture_output=True, text=True, env=env, timeout=30)


@pytest.fixture
def mist():
    with echo_mist() as url:
        yield url


def test_server_tokens_end_to_end(mistmcp_bin, mist, tmp_path):
    store = tmp_path / "tokens.json"
    created = tokens_cmd(mistmcp_bin, store, "create", "--id", "alice", "--description", "NOC laptop")
    assert created.returncode == 0, created.stderr
    alice = created.stdout.strip()
    assert alice.startswith("mmcp_") and len(alice) > 40
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    assert alice not in store.read_text()  # only the hash is kept
    bob = tokens_cmd(mistmcp_bin, store, "create", "--id", "bob").stdout.strip()
    dup = tokens_cmd(mistmcp_bin, store, "create", "--id", "bob")
    assert dup.returncode != 0 and "exists" in dup.stderr

    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--tokens-file", str(store)])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30) as c:
            none = c.post(url, json=INIT, headers=HEADERS)
            assert none.status_code == 401 and "Bearer" in none.json()["error"]
            wrong = c.post(url, json=INIT, headers={**HEADERS, "Authorization": "Bearer mmcp_nope"})
            assert wrong.status_code == 401 and "invalid or revoked" in wrong.json()["error"]
            wrong_header = c.post(url, json=INIT, headers={**HEADERS, "X-Authorization": alice})
            assert wrong_header.status_code == 401
            ok = c.post(url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {alice}", "X-Mist-Token": "mist-a"})
            assert ok.status_code == 200
            assert c.post(url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {bob}"}).status_code == 200

            listed = tokens_cmd(mistmcp_bin, store, "list").stdout
            assert "alice" in listed and "NOC laptop" in listed and alice not in listed

            revoked = tokens_cmd(mistmcp_bin, store, "revoke", "--id", "bob")
            assert revoked.returncode == 0
            # The running server refuses the revoked token at once.
            after = c.post(url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {bob}"})
            assert after.status_code == 401
            assert c.post(url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {alice}"}).status_code == 200
        log = server.text()
        for secret in (alice, bob, "mist-a"):
            assert secret not in log
    finally:
        server.stop()


@pytest.mark.anyio
async def test_mist_credentials_bound_to_a_server_token(mistmcp_bin, mist, tmp_path):
    env_file = tmp_path / "team.env"
    env_file.write_text("MIST_APITOKEN=team-mist-token\nMIST_HOST=api.eu.mist.com\n")
    store = tmp_path / "tokens.json"
    token = tokens_cmd(mistmcp_bin, store, "create", "--id", "team", "--mist-env-file", str(env_file)).stdout.strip()
    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--tokens-file", str(store)])
    try:
        # No cloud in the URL and no Mist token: both come from the bound file.
        async with http_session(server.url, {"Authorization": f"Bearer {token}"}) as (s, _):
            me = result_json(await s.call_tool("getSelf"))
            assert me["email"] == "team-mist-token@example.com"
        # The bound credentials win over the client's, and pin the cloud.
        async with http_session(server.url, {"Authorization": f"Bearer {token}", "X-Mist-Token": "own"}) as (s, _):
            assert result_json(await s.call_tool("getSelf"))["email"] == "team-mist-token@example.com"
        with httpx2.Client(timeout=30) as c:
            other_cloud = c.post(f"{server.url}?cloud=api.mist.com", json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"})
            assert other_cloud.status_code == 400 and "api.eu.mist.com" in other_cloud.json()["error"]
        assert "team-mist-token" not in server.text()
    finally:
        server.stop()


def test_origin_host_and_body_limits(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--allowed-origins", "https://chat.example.com", "--max-body-bytes", "4096"])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30) as c:
            foreign = c.post(url, json=INIT, headers={**HEADERS, "Origin": "https://evil.example.com"})
            assert foreign.status_code == 403
            allowed = c.post(url, json=INIT, headers={**HEADERS, "Origin": "https://chat.example.com"})
            assert allowed.status_code == 200
            rebinding = c.post(url, json=INIT, headers={**HEADERS, "Host": "attacker.example.com"})
            assert rebinding.status_code == 403
            big = dict(INIT, params=dict(INIT["params"], padding="x" * 10_000))
            too_big = c.post(url, json=big, headers=HEADERS)
            assert too_big.status_code == 413 and "4096" in too_big.json()["error"]
            assert c.post(url, json=INIT, headers=HEADERS).status_code == 200  # still serving
        assert EchoMist.calls == []
    finally:
        server.stop()


def test_non_loopback_bind_needs_tokens(mistmcp_bin, tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    refused = subprocess.run([mistmcp_bin, "-t", "http", "--host", "0.0.0.0", "-p", "0"], capture_output=True, text=True, env=env, timeout=30)
    assert refused.returncode != 0 and "tokens create" in refused.stderr and "--allow-unauthenticated" in refused.stderr
    missing = subprocess.run([mistmcp_bin, "-t", "http", "--tokens-file", str(tmp_path / "none.json")], capture_output=True, text=True, env=env, timeout=30)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_allow_unauthenticated_warns(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--allow-unauthenticated"], host="0.0.0.0")
    try:
        with httpx2.Client(timeout=30) as c:
            assert c.post(f"{server.url}?cloud=api.mist.com", json=INIT, headers=HEADERS).status_code == 200
        assert "--allow-unauthenticated" in server.text()
    finally:
        server.stop()
