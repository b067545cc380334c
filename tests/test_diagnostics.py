"""The token security analysis (mistmcp --security-check, mistcli self security, the tool, strict
mode), --validate-config, and the diagnostic tools and structured call logs."""

from __future__ import annotations

import json
import subprocess
import tempfile

import pytest

from conftest import ORG_ID, built_binary, result_json, result_text, server_env
from mcp_client import connect
from test_devices import device_mist, stream  # noqa: F401 (stream is a fixture)

pytestmark = pytest.mark.anyio

ONE_ORG = {"email": "ops@example.com", "privileges": [{"scope": "org", "org_id": ORG_ID, "role": "admin", "name": "Org"}]}
TWO_ADMIN_ORGS = {"email": "root@example.com", "privileges": [
    {"scope": "org", "org_id": ORG_ID, "role": "admin"}, {"scope": "org", "org_id": "org-2", "role": "admin"}]}


def mistmcp(binary, args, env):
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([binary, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


@pytest.mark.parametrize("answer,code,expect", [(ONE_ORG, 0, "No risk"), (TWO_ADMIN_ORGS, 3, "CRITICAL: orgs with the admin role: 2")])
def test_security_check(mistmcp_bin, stream, answer, code, expect):
    with device_mist(stream, answer) as posts:
        run = mistmcp(mistmcp_bin, ["--security-check"], server_env(posts.url))
        assert run.returncode == code, run.stderr
        assert expect in run.stdout
        cli = subprocess.run([built_binary("mistcli"), "self", "security"], capture_output=True, text=True, timeout=60,
                             env=server_env(posts.url, MISTCLI_CONFIG="/nonexistent"))
        report = json.loads(cli.stdout)
        assert cli.returncode == (6 if code else 0), cli.stderr
        assert report["highest"] == ("CRITICAL" if code else None)


def test_validate_config(mistmcp_bin, stream):
    with device_mist(stream) as posts:
        ok = mistmcp(mistmcp_bin, ["--validate-config"], server_env(posts.url))
        assert ok.returncode == 0 and "configuration valid" in ok.stdout and "ops@example.com" in ok.stdout
        bad = mistmcp(mistmcp_bin, ["--validate-config", "-m", "custom", "-c", "no_such_category"], server_env(posts.url))
        assert bad.returncode != 0 and "no_such_category" in bad.stderr
        no_token = mistmcp(mistmcp_bin, ["--validate-config"], server_env(posts.url, token=None))
        assert no_token.returncode != 0 and "MIST_APITOKEN" in no_token.stderr


@pytest.mark.parametrize("acknowledged", [False, True])
async def test_strict_mode_refuses_writes_of_a_critical_token(mistmcp_bin, stream, acknowledged):
    with device_mist(stream, TWO_ADMIN_ORGS) as posts:
        env = server_env(posts.url, MIST_STRICT_SECURITY_MODE="true",
                         MIST_SECURITY_RISKS_ACKNOWLEDGED="true" if acknowledged else "false")
        args = ["--enable-write-tools", "--disable-elicitation", "-m", "custom", "-c", "orgs_wlans,diagnostics"]
        async with connect(mistmcp_bin, args, env=env) as c:
            result = await c.call("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "x"}})
            report = result_json(await c.call("mist_analyze_token_security"))
            assert report["highest"] == "CRITICAL"
        writes = [p for p in posts.calls if p[0] == "POST"]
        if acknowledged:
            assert writes, result_text(result)
        else:
            assert result.is_error and "strict security mode" in result_text(result)
            assert writes == []


async def test_health_connectivity_and_call_logs(mistmcp_bin, stream):
    with device_mist(stream) as posts:
        env = server_env(posts.url, token="secret-log-token")
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics", "--log-format", "json"], env=env) as c:
            assert (await c.call("getSelf")).is_error is False
            await c.call("getSelf")
            health = result_json(await c.call("mist_get_service_health"))
            assert health["calls"] == 2 and health["operations"]["getSelf"]["calls"] == 2
            assert set(health["latency"]) >= {"p50_ms", "p90_ms", "p95_ms", "p99_ms"}
            assert health["rate_budget"]["left_for_this_token"] == 4998
            link = result_json(await c.call("mist_test_connectivity"))
            assert link["reachable"] and link["token_valid"] and link["latency_ms"] >= 0
            logs = c.stderr()
        calls = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"tool call"' in line]
        assert len(calls) >= 4
        first = calls[0]
        assert first["tool"] == "getSelf" and first["operation"] == "getSelf" and first["status"] == "ok"
        assert first["upstream_requests"] == 1 and first["session"] == "stdio" and "duration_ms" in first
        assert "secret-log-token" not in logs


@pytest.mark.parametrize("acknowledged", [False, True])
def test_strict_mode_refuses_mistcli_writes_of_a_critical_token(stream, acknowledged):  # noqa: F811
    """mistcli's writes pass the same write gate as the server's: strict mode refuses them."""
    with device_mist(stream, TWO_ADMIN_ORGS) as posts:
        env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(), "MISTCLI_CONFIG": "/nonexistent",
               "MIST_APITOKEN": "t", "MIST_API_URL": posts.url, "MIST_STRICT_SECURITY_MODE": "true",
               "MIST_SECURITY_RISKS_ACKNOWLEDGED": "true" if acknowledged else "false"}
        run = subprocess.run([built_binary("mistcli"), "wlans", "create", "--org", ORG_ID, "--body", '{"ssid": "x"}', "--yes"],
                             capture_output=True, text=True, env=env, timeout=60, cwd=tempfile.gettempdir())
        writes = [p for p in posts.calls if p[0] == "POST"]
    if acknowledged:
        assert writes, run.stderr
    else:
        assert run.returncode == 2 and "strict security mode" in run.stderr and writes == [], run
