"""Device commands: mist_utilities and the remote shell against a WebSocket server of our own that
speaks the Mist stream format (subscribe, data events with session ids, interleaved sessions, a
stall, a close), with the POSTs answered by a Mist mock of our own or by Prism."""

from __future__ import annotations

import json
import subprocess

import pytest
from mcp import types

from conftest import built_binary, result_json, result_text, server_env
from device_support import DEVICE, SITE, TOKEN, MistStream, device_mist, stream  # noqa: F401 (stream: a fixture)
from mcp_client import connect

pytestmark = pytest.mark.anyio


def env_for(posts, stream, **extra):
    return server_env(posts.url, token=TOKEN, MIST_WS_URL=stream.url, **extra)


async def utilities(c, **arguments):
    return await c.call("mist_utilities", arguments)


async def test_ping_reads_its_own_session_until_the_device_is_quiet(mistmcp_bin, stream):
    stream.scenario = "ok"
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            seen = []

            async def on_progress(progress, total, message):
                seen.append(progress)

            result = await c.session.call_tool("mist_utilities", {
                "device_type": "ex", "utility": "ping", "site_id": SITE, "device_id": DEVICE,
                "parameters": {"host": "8.8.8.8"}, "timeout_seconds": 1}, progress_callback=on_progress)
            out = result_json(result)
            assert out["complete"] is True, out
            assert out["output"].startswith("PING 8.8.8.8") and "ping statistics" in out["output"]
            assert "other output" not in out["output"]  # the interleaved session is not ours
            assert out["messages"] == 3
            assert seen and seen[-1] == 3  # progress notifications while waiting
        assert ("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/ping", {"host": "8.8.8.8"}) in posts.calls
        assert stream.subscriptions[-1] == f"/sites/{SITE}/devices/{DEVICE}/cmd"
        assert stream.auth[-1] == f"Token {TOKEN}"


async def test_the_deadline_marks_partial_output(mistmcp_bin, stream):
    stream.scenario = "stall"
    with device_mist(stream) as posts:
        env = env_for(posts, stream, MISTMCP_COMMAND_TIMEOUT="3")
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env) as c:
            out = result_json(await utilities(c, device_type="ex", utility="traceroute", site_id=SITE, device_id=DEVICE,
                                              parameters={"host": "8.8.8.8"}))
            assert out["complete"] is False and "partial" in out["note"]
            assert out["output"].startswith("line 0\n")


async def test_a_closed_stream_ends_the_output(mistmcp_bin, stream):
    stream.scenario = "close"
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            out = result_json(await utilities(c, device_type="srx", utility="ping", site_id=SITE, device_id=DEVICE,
                                              parameters={"host": "8.8.8.8"}))
            assert out["complete"] is True and out["messages"] == 2


async def test_listing_and_argument_errors(mistmcp_bin, stream):
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            listing = result_json(await utilities(c, device_type="ap"))
            assert {u["utility"] for u in listing["utilities"]} == {"ping", "traceroute", "retrieveArpTable"}
            wrong = await utilities(c, device_type="ap", utility="bouncePort", site_id=SITE, device_id=DEVICE)
            assert wrong.is_error and "not a utility of `ap`" in result_text(wrong)
            missing = await utilities(c, device_type="ex", utility="ping", site_id=SITE, device_id=DEVICE)
            assert missing.is_error and "`host`" in result_text(missing)
        assert posts.calls == []


async def test_disruptive_utilities_are_writes(mistmcp_bin, stream):
    stream.scenario = "ok"
    bounce = {"device_type": "ex", "utility": "bouncePort", "site_id": SITE, "device_id": DEVICE,
              "parameters": {"port_ids": ["ge-0/0/1"]}, "timeout_seconds": 1}
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            off = await c.call("mist_utilities", bounce)
            assert off.is_error and "--enable-write-tools" in result_text(off)

        async def answer(action):
            async def callback(context, params):
                assert "bouncePort" in params.message and "ge-0/0/1" in params.message
                return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)
            return callback

        args = ["--enable-write-tools", "-m", "custom", "-c", "workflows"]
        async with connect(mistmcp_bin, args, env=env_for(posts, stream), elicitation=await answer("decline")) as c:
            declined = result_json(await c.call("mist_utilities", bounce))
            assert "declined" in declined
        assert posts.calls == []
        async with connect(mistmcp_bin, args, env=env_for(posts, stream), elicitation=await answer("accept")) as c:
            done = result_json(await c.call("mist_utilities", bounce))
            assert done["complete"] is True
        assert posts.calls == [("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/bounce_port", {"ports": ["ge-0/0/1"]})]


async def test_the_shell_runs_one_read_only_command(mistmcp_bin, stream):
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics"], env=env_for(posts, stream)) as c:
            out = result_json(await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "show version"}))
            assert "Junos: 23.4R2" in out["output"] and "\x1b" not in out["output"] and "\r" not in out["output"]
            assert "$9$ShellHid" not in out["output"] and "\u00absecret:secret:" in out["output"]  # issue 17
            assert out["complete"] is True
            assert stream.shell_input[-1] == b"\x00show version\n"
            refused = await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "request system reboot"})
            assert refused.is_error and "read-only" in result_text(refused)
        shells = [p for p in posts.calls if p[1].endswith("/shell")]
        assert len(shells) == 1  # the refused command never opened a shell
        env = env_for(posts, stream, MISTMCP_SHELL_DENYLIST="/nonexistent/denylist")
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics"], env=env) as c:
            closed = await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "show version"})
            assert closed.is_error and "deny-list" in result_text(closed)  # fail closed


def test_mistcli_streams_a_ping(stream):
    stream.scenario = "ok"
    with device_mist(stream) as posts:
        run = subprocess.run([built_binary("mistcli"), "devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8",
                              "--timeout-seconds", "1"], capture_output=True, text=True, timeout=60,
                             env=env_for(posts, stream, MISTCLI_CONFIG="/nonexistent"))
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("PING 8.8.8.8") and "other output" not in run.stdout
        as_json = subprocess.run([built_binary("mistcli"), "devices", "ping", "--site", SITE, "--device", DEVICE, "--host", "8.8.8.8",
                                  "--timeout-seconds", "1", "-o", "json"], capture_output=True, text=True, timeout=60,
                                 env=env_for(posts, stream, MISTCLI_CONFIG="/nonexistent"))
        assert json.loads(as_json.stdout)["complete"] is True


async def test_ping_started_through_prism(mistmcp_bin, stream, prism):
    """The POST goes to Prism (which checks it against the spec); the output comes from our stream."""
    import httpx2

    answer = httpx2.post(f"{prism}/api/v1/sites/{SITE}/devices/{DEVICE}/ping", json={"host": "8.8.8.8"},
                         headers={"Authorization": f"Token {TOKEN}"}).json()
    stream.session = answer["session"]
    stream.scenario = "ok"
    try:
        env = server_env(prism, token=TOKEN, MIST_WS_URL=stream.url)
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env) as c:
            out = result_json(await utilities(c, device_type="ex", utility="ping", site_id=SITE, device_id=DEVICE,
                                              parameters={"host": "8.8.8.8"}, timeout_seconds=1))
            assert out["complete"] is True and "ping statistics" in out["output"], out
    finally:
        stream.session = "sess-1"


def test_mistcli_refuses_bad_utility_arguments(stream):
    with device_mist(stream) as posts:
        env = env_for(posts, stream, MISTCLI_CONFIG="/nonexistent")
        unknown = subprocess.run([built_binary("mistcli"), "devices", "utility", "nosuchthing", "--site", SITE, "--device", DEVICE],
                                 capture_output=True, text=True, timeout=60, env=env)
        assert unknown.returncode == 2 and unknown.stdout == "" and "not a utility of `ex`" in unknown.stderr
        no_site = subprocess.run([built_binary("mistcli"), "devices", "ping", "--device", DEVICE, "--host", "8.8.8.8"],
                                 capture_output=True, text=True, timeout=60, env=env)
        assert no_site.returncode == 2 and "--site" in no_site.stderr
        bounce = subprocess.run([built_binary("mistcli"), "devices", "utility", "bouncePort", "--site", SITE, "--device", DEVICE,
                                 'port_ids=["ge-0/0/1"]'], capture_output=True, text=True, timeout=60, env=env)
        assert bounce.returncode != 0 and "--yes" in bounce.stderr
        assert posts.calls == []  # nothing was started


def test_mistcli_runs_a_disruptive_utility_with_yes(stream):
    stream.scenario = "ok"
    with device_mist(stream) as posts:
        env = env_for(posts, stream, MISTCLI_CONFIG="/nonexistent")
        run = subprocess.run([built_binary("mistcli"), "devices", "utility", "bouncePort", "--site", SITE, "--device", DEVICE,
                              'port_ids=["ge-0/0/1"]', "--timeout-seconds", "1", "--yes", "-o", "json"],
                             capture_output=True, text=True, timeout=60, env=env)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["complete"] is True
        assert posts.calls == [("POST", f"/api/v1/sites/{SITE}/devices/{DEVICE}/bounce_port", {"ports": ["ge-0/0/1"]})]


async def test_the_token_never_goes_to_another_port(mistmcp_bin, stream):
    """A shell URL on the stream's host but another port gets no token (issue 14: whole origin)."""
    other = MistStream()
    with device_mist(stream) as posts:
        posts.shell_url = f"ws://127.0.0.1:{other.port}/ssh?jwt=secret-jwt"
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "diagnostics"], env=env_for(posts, stream)) as c:
            out = result_json(await c.call("mist_run_shell_command", {"site_id": SITE, "device_id": DEVICE, "command": "show version"}))
            assert "Junos" in out["output"], out
    assert other.auth and all(a is None for a in other.auth), other.auth


async def test_device_output_shows_secrets_as_handles(mistmcp_bin, stream):
    """Issue 17: a device's configuration in a command's output reaches the model with handles."""
    stream.scenario = "secrets"
    with device_mist(stream) as posts:
        async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=env_for(posts, stream)) as c:
            result = await c.call("mist_utilities", {"device_type": "ex", "utility": "ping", "site_id": SITE,
                                                     "device_id": DEVICE, "parameters": {"host": "8.8.8.8"},
                                                     "timeout_seconds": 2})
            seen = result_text(result) + json.dumps(result.structured_content)
            assert "set system host-name ex-1" in seen, seen
            assert "$6$Dev$Hash" not in seen and "Dev-C0mm" not in seen, seen
            assert "\u00absecret:encrypted-password:" in seen and "\u00absecret:community:" in seen, seen
    stream.scenario = "ok"
