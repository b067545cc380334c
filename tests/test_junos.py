"""Junos devices directly over NETCONF/SSH, through the real binaries: yuma123's netconfd behind a
private OpenSSH sshd for standard NETCONF (framings, logins, edit-config, validate, confirmed
commits, host keys), and our Junos-reply responder behind another sshd for the Junos RPCs. MCP
calls go through the official Python SDK, confirming and declining commits by elicitation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import ncclient.transport.session
import pytest
from mcp import types
from ncclient import manager

from conftest import built_binary, result_text, server_env
from junos_lab import PASSWORD, USER, YANG_NS, Lab
from mcp_client import connect

pytestmark = pytest.mark.anyio

# ncclient sends queued RPCs only between 0.1 s selects.
ncclient.transport.session.TICK = 0.005

JUNOS_TOOLS = {
    "get_router_list", "execute_junos_command", "execute_junos_command_batch",
    "execute_junos_pfe_command", "get_junos_config", "junos_config_diff", "gather_device_facts",
    "render_and_apply_j2_template", "reload_devices",
}
JUNOS_WRITES = {"load_and_commit_config", "add_device"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("junos"))
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def mistcli_bin() -> str:
    return built_binary("mistcli")


def inventory(directory: Path, entries: dict) -> Path:
    path = directory / "devices.json"
    path.write_text(json.dumps(entries))
    return path


def cli(binary: str, devices: Path, *args: str, stdin: str = "", timeout: float = 90, **env):
    e = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(), "MISTCLI_CONFIG": "/nonexistent"}
    e.update(env)
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([binary, "junos", "--junos-devices", str(devices), *args], input=stdin,
                              capture_output=True, text=True, env=e, cwd=cwd, timeout=timeout)


def answering(action: str, seen: list):
    async def callback(context, params):
        seen.append(params.message)
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)

    return callback


def mcp(binary: str, devices: Path, *extra: str, elicitation=None):
    return connect(binary, ["--junos-devices", str(devices), *extra], env=server_env(token=None), elicitation=elicitation)


def answer(result) -> dict:
    return json.loads(result_text(result))


def rpc_names(dev) -> list[str]:
    return [r["rpc"] for r in dev.rpcs()]


def commits(dev) -> list[dict]:
    """The commit-configuration RPCs that commit (not `commit check`)."""
    return [r for r in dev.rpcs() if r["rpc"] == "commit-configuration" and "check" not in r["children"]]


def nc(lab: Lab, dev):
    return manager.connect(host="127.0.0.1", port=dev.port, username=USER, key_filename=str(lab.client_key),
                           hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=10)


def host_name(lab: Lab, dev) -> str | None:
    with nc(lab, dev) as m:
        data = m.get_config("running", filter=("subtree", f'<system xmlns="{YANG_NS}"/>')).data_ele
    el = data.find(f".//{{{YANG_NS}}}host-name")
    return None if el is None else el.text


def xml_config(name: str) -> str:
    return f'<configuration><system xmlns="{YANG_NS}"><host-name>{name}</host-name></system></configuration>'


# --- listing -----------------------------------------------------------------------------------


async def test_junos_tools_are_listed_with_an_inventory_and_writes_only_when_enabled(mistmcp_bin, lab, tmp_path):
    r = lab.responder("list1")
    devices = inventory(tmp_path, {"r1": r.device()})
    async with connect(mistmcp_bin, [], env=server_env(token=None)) as c:
        assert not JUNOS_TOOLS & set(await c.tool_names())
    async with mcp(mistmcp_bin, devices) as c:
        names = set(await c.tool_names())
        assert JUNOS_TOOLS <= names and not JUNOS_WRITES & names
        listing = answer(await c.call("manageMcpTools", {}))
        assert any(cat["name"] == "junos" and cat["enabled"] for cat in listing["categories"]), listing
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", [])) as c:
        assert JUNOS_TOOLS | JUNOS_WRITES <= set(await c.tool_names())
    bad = tmp_path / "bad.json"
    bad.write_text('{"r1": {"ip": "127.0.0.1", "username": "u", "auth": {"type": "telnet"}}}')
    p = subprocess.run([mistmcp_bin, "--junos-devices", str(bad)], capture_output=True, text=True, timeout=30,
                       env=server_env(token=None), stdin=subprocess.DEVNULL)
    assert p.returncode != 0 and "auth type `telnet` is not known" in p.stderr, p.stderr


# --- reads -------------------------------------------------------------------------------------


async def test_reads_answer_structured_results_and_never_show_secrets(mistmcp_bin, lab, tmp_path):
    r = lab.responder("vmx1")
    devices = inventory(tmp_path, {"vmx1": r.device(auth="password"), "vmx1-key": r.device()})
    async with mcp(mistmcp_bin, devices) as c:
        routers = await c.call("get_router_list", {})
        assert PASSWORD not in result_text(routers)
        assert {d["name"] for d in answer(routers)["routers"]} == {"vmx1", "vmx1-key"}

        shown = answer(await c.call("execute_junos_command", {"router_name": "vmx1", "command": "show version"}))
        assert shown["ok"] and "Hostname: vmx1" in shown["output"] and shown["duration_ms"] >= 0, shown
        assert answer(await c.call("execute_junos_command", {"router_name": "vmx1-key", "command": "sh interfaces terse"}))["ok"]

        pfe = answer(await c.call("execute_junos_pfe_command", {"router_name": "vmx1", "command": "show jnh 0 pool"}))
        assert pfe["ok"], pfe
        assert any('request pfe execute target fpc0 command "show jnh 0 pool"' in x["text"] for x in r.rpcs()), r.rpcs()

        config = answer(await c.call("get_junos_config", {"router_name": "vmx1"}))
        assert "set system host-name vmx1" in config["output"], config
        as_json = answer(await c.call("get_junos_config", {"router_name": "vmx1", "format": "json"}))
        assert isinstance(as_json["output"], dict), as_json
        got = [x for x in r.rpcs() if x["rpc"] == "get-configuration" and x["attrs"].get("format") == "set"]
        assert got and got[0]["attrs"].get("inherit") == "inherit", got

        diff = answer(await c.call("junos_config_diff", {"router_name": "vmx1", "version": 1}))
        assert diff["ok"] and "[edit]" in diff["output"], diff
        beyond = answer(await c.call("junos_config_diff", {"router_name": "vmx1", "version": 49}))
        assert not beyond["ok"] and "rollback 49 is not available" in beyond["error"], beyond

        facts = answer(await c.call("gather_device_facts", {"router_name": "vmx1"}))
        assert facts["output"] == {"hostname": "vmx1", "model": "vmx", "version": "23.4R1.9",
                                   "serial_number": "VM-vmx1-0001"}, facts
        assert PASSWORD not in c.stderr()


async def test_refused_commands_and_unknown_devices_send_nothing(mistmcp_bin, lab, tmp_path):
    r = lab.responder("guarded")
    devices = inventory(tmp_path, {"guarded": r.device(), "edge-router-1": r.device()})
    async with mcp(mistmcp_bin, devices) as c:
        for command, why in [("req sys reb", "`request ...`, not a read-only command"),
                             ("request system reboot", "not a read-only command"),
                             ("show conf", "deny-list (`show configuration`)"),
                             ("sh version | save /var/tmp/x", "`| save` is not allowed"),
                             ("show version; request system halt", "chains or redirects"),
                             ("s version", "unknown or ambiguous"),
                             ("monitor interface ge-0/0/0", "only `monitor traffic ... count N`")]:
            result = await c.call("execute_junos_command", {"router_name": "guarded", "command": command})
            assert result.is_error and why in answer(result)["error"], (command, result_text(result))
        pfe = await c.call("execute_junos_pfe_command", {"router_name": "guarded", "command": "set jnh 0 x"})
        assert pfe.is_error and "must start with `show`" in result_text(pfe)
        unknown = await c.call("execute_junos_command", {"router_name": "edge-router1", "command": "show version"})
        assert unknown.is_error and "closest: edge-router-1" in answer(unknown)["error"], result_text(unknown)
    assert r.rpcs() == [], "a refused command reached the device"


async def test_a_stalled_or_closing_device_answers_for_itself(mistmcp_bin, lab, tmp_path):
    stall, close = lab.responder("stall", mode="stall"), lab.responder("closer", mode="close")
    devices = inventory(tmp_path, {"stall": stall.device(), "closer": close.device()})
    async with mcp(mistmcp_bin, devices) as c:
        stalled = answer(await c.call("execute_junos_command", {"router_name": "stall", "command": "show version", "timeout": 2}))
        assert stalled["error_kind"] == "timeout" and "no answer within 2 s" in stalled["error"], stalled
        closed = answer(await c.call("execute_junos_command", {"router_name": "closer", "command": "show version"}))
        assert not closed["ok"] and closed["error_kind"] in ("closed", "device"), closed
        # The server keeps serving.
        assert answer(await c.call("get_router_list", {}))["count"] == 2


async def test_a_batch_of_twenty_with_two_dead_devices_and_a_stalled_one(mistmcp_bin, lab, tmp_path):
    live, stall = lab.responder("batch"), lab.responder("batch-stall", mode="stall")
    entries = {f"sw{i:02}": live.device() for i in range(17)}
    for name in ("dead1", "dead2"):
        entries[name] = {**live.device(), "port": lab.dead_port()}
    entries["stalled"] = stall.device()
    devices = inventory(tmp_path, entries)
    names = sorted(entries)
    async with mcp(mistmcp_bin, devices) as c:
        result = answer(await c.call("execute_junos_command_batch",
                                     {"router_names": names, "command": "show version", "timeout": 10}))
    assert result["summary"] == {"total": 20, "succeeded": 17, "failed": 3}, result["summary"]
    by_name = {a["router_name"]: a for a in result["results"]}
    assert [a["router_name"] for a in result["results"]] == names
    assert {by_name[n]["error_kind"] for n in ("dead1", "dead2")} == {"connect"}, by_name["dead1"]
    assert by_name["stalled"]["error_kind"] == "timeout"
    # Each device answers within its own deadline: the stalled one holds up nobody.
    assert all(a["duration_ms"] < 10_000 for n, a in by_name.items() if n != "stalled"), by_name


# --- commits -----------------------------------------------------------------------------------


async def test_a_confirmed_commit_shows_the_diff_and_runs_the_safe_flow(mistmcp_bin, lab, tmp_path):
    r = lab.responder("commit1")
    devices = inventory(tmp_path, {"commit1": r.device()})
    seen: list[str] = []
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", seen)) as c:
        result = answer(await c.call("load_and_commit_config", {
            "router_name": "commit1", "config_text": "set interfaces ge-0/0/1 description from-mcp",
            "commit_comment": "ticket 42", "check_after_seconds": 0}))
    assert result["outcome"] == "committed" and result["committed"], result
    assert len(seen) == 1 and "+  set interfaces ge-0/0/1 description from-mcp" in seen[0], seen
    assert "commit confirmed 5 minute(s)" in seen[0]
    steps = [s["step"] for s in result["steps"]]
    assert steps == ["deny-list", "lock", "load", "diff", "commit check", "commit confirmed", "reachability", "confirm", "unlock"]
    done = commits(r)
    assert "confirmed" in done[0]["children"] and "confirmed" not in done[1]["children"], done
    assert "set interfaces ge-0/0/1 description from-mcp" in r.state()["running"]
    # The reachability check is a session of its own.
    pids = {x["pid"] for x in r.rpcs()}
    assert len(pids) >= 2, r.rpcs()


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_commit_commits_nothing_and_releases_the_candidate(mistmcp_bin, lab, tmp_path, action):
    r = lab.responder(f"decline-{action}")
    before = r.state()["running"]
    devices = inventory(tmp_path, {"r": r.device()})
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering(action, [])) as c:
        result = answer(await c.call("load_and_commit_config", {"router_name": "r", "config_text": "set system host-name changed"}))
    assert result["outcome"] == "not_committed", result
    assert commits(r) == [], "a declined commit was sent"
    assert result["steps"][-1] == {"step": "confirmation", "ok": False, "detail": "declined" if action == "decline" else "cancelled"}, result
    assert {"discard-changes", "unlock"} <= set(rpc_names(r)), (result, r.rpcs(include_events=True), r.logs())
    assert r.state()["running"] == before and r.state()["candidate"] == before


async def test_a_failed_reachability_check_rolls_back(mistmcp_bin, lab, tmp_path):
    r = lab.responder("unreachable")
    before = r.state()["running"]
    r.refuse_new_sessions_while_pending()
    devices = inventory(tmp_path, {"r": r.device()})
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", [])) as c:
        result = answer(await c.call("load_and_commit_config", {
            "router_name": "r", "config_text": "set interfaces ge-0/0/9 description cuts-management",
            "check_after_seconds": 0, "timeout": 10}))
    assert result["outcome"] == "rolled_back" and not result["committed"], result
    assert [s["step"] for s in result["steps"]][-2:] == ["reachability", "rollback"], result["steps"]
    rollback = [x for x in r.rpcs() if x["rpc"] == "load-configuration" and x["attrs"].get("rollback") == "1"]
    assert rollback, r.rpcs()
    assert r.state()["running"] == before


@pytest.mark.parametrize("fmt,text", [
    ("set", "set sys root-auth plain-text-password-value x"),
    ("set", "edit system login\nset user eve class super-user"),
    ("text", "system { login { user eve { class super-user; } } }"),
    ("xml", "<configuration><groups><name>g</name><system><root-authentication/></system></groups></configuration>"),
])
async def test_the_configuration_denylist_refuses_before_connecting(mistmcp_bin, lab, tmp_path, fmt, text):
    r = lab.responder("denied")
    devices = inventory(tmp_path, {"r": r.device()})
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", [])) as c:
        result = await c.call("load_and_commit_config", {"router_name": "r", "config_text": text, "config_format": fmt})
    assert result.is_error and "configuration deny-list refuses" in answer(result)["error"], result_text(result)
    assert r.rpcs() == []


async def test_a_load_error_or_failed_check_discards_and_unlocks(mistmcp_bin, lab, tmp_path):
    r = lab.responder("checked")
    devices = inventory(tmp_path, {"r": r.device()})
    seen: list[str] = []
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", seen)) as c:
        bad = answer(await c.call("load_and_commit_config", {"router_name": "r", "config_text": "set invalid-statement x"}))
        check = answer(await c.call("load_and_commit_config", {"router_name": "r", "config_text": "set system commit-check-fails yes"}))
    assert bad["outcome"] == "not_committed" and "syntax error" in bad["error"], bad
    assert check["outcome"] == "not_committed" and "commit check failed" in check["error"], check
    assert seen == [] and commits(r) == []
    assert rpc_names(r).count("unlock") == 2


async def test_templates_render_dry_run_and_apply(mistmcp_bin, lab, tmp_path):
    r1, r2 = lab.responder("tpl1"), lab.responder("tpl2")
    devices = inventory(tmp_path, {"tpl1": r1.device(), "tpl2": r2.device()})
    template = "set interfaces {{ port }} description \"{{ desc }} on {{ router_name }}\""
    vars_yaml = "port: ge-0/0/3\ndesc: printer\n"
    seen: list[str] = []
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", seen)) as c:
        dry = answer(await c.call("render_and_apply_j2_template", {
            "template_content": template, "vars_content": vars_yaml, "router_names": ["tpl1", "tpl2"]}))
        assert dry["dry_run"] and [x["outcome"] for x in dry["results"]] == ["dry_run", "dry_run"], dry
        assert 'description "printer on tpl2"' in dry["results"][1]["rendered"]
        assert "printer on tpl1" in dry["results"][0]["diff"]
        assert commits(r1) == [] and seen == []
        broken = await c.call("render_and_apply_j2_template", {"template_content": "{{ missing }}", "router_name": "tpl1"})
        assert broken.is_error and "does not render" in result_text(broken)
        applied = answer(await c.call("render_and_apply_j2_template", {
            "template_content": template, "vars_content": vars_yaml, "router_name": "tpl1",
            "apply_config": True, "dry_run": False, "check_after_seconds": 0}))
    assert applied["results"][0]["outcome"] == "committed", applied
    assert len(seen) == 1 and commits(r2) == []


async def test_add_device_and_reload_devices(mistmcp_bin, lab, tmp_path):
    r = lab.responder("added")
    key = tmp_path / "added_key"
    shutil.copyfile(lab.client_key, key)
    key.chmod(0o600)
    devices = inventory(tmp_path, {})
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", [])) as c:
        outside = await c.call("add_device", {"device_name": "x", "device_ip": "127.0.0.1", "username": USER,
                                              "ssh_key_path": "/etc/shadow", "host_key": r.fingerprint})
        assert outside.is_error and "in the inventory's folder" in result_text(outside)
        added = answer(await c.call("add_device", {
            "device_name": "added", "device_ip": "127.0.0.1", "device_port": r.port, "username": USER,
            "ssh_key_path": str(key), "host_key": r.fingerprint}))
        assert added["added"], added
        ran = answer(await c.call("execute_junos_command", {"router_name": "added", "command": "show version"}))
        assert ran["ok"], ran
        named = await c.call("reload_devices", {"file_name": "/etc/passwd"})
        assert named.is_error and "takes no arguments" in result_text(named)
        devices.write_text(json.dumps({"a": r.device(), "b": r.device()}))
        assert answer(await c.call("reload_devices", {}))["count"] == 2


# --- host keys ---------------------------------------------------------------------------------


def test_host_keys_are_verified_and_refusals_say_how_to_pin(mistcli_bin, lab, tmp_path):
    r, other = lab.responder("keyed"), lab.responder("other")
    known = tmp_path / "known_hosts"
    known.write_text(r.known_hosts_line + "\n")
    devices = inventory(tmp_path, {
        "changed": {**r.device(), "host_key": other.fingerprint},
        "unpinned": r.device(pin=False),
        "known": {**r.device(pin=False), "known_hosts": str(known)},
        "not-known": {**other.device(pin=False), "known_hosts": str(known)},
    })
    changed = cli(mistcli_bin, devices, "run", "changed", "show version")
    assert changed.returncode == 3 and "host key changed" in changed.stderr and r.fingerprint in changed.stderr, changed.stderr
    unpinned = cli(mistcli_bin, devices, "run", "unpinned", "show version")
    assert unpinned.returncode == 3 and f'"host_key": "{r.fingerprint}"' in unpinned.stderr, unpinned.stderr
    assert cli(mistcli_bin, devices, "run", "known", "show version").returncode == 0
    not_known = cli(mistcli_bin, devices, "run", "not-known", "show version")
    assert not_known.returncode == 3 and "not in" in not_known.stderr, not_known.stderr
    assert [x["rpc"] for x in r.rpcs() if x["rpc"] != "close-session"] == ["command"], r.rpcs()
    assert other.rpcs() == []


# --- mistcli -----------------------------------------------------------------------------------


def test_mistcli_junos_commands(mistcli_bin, lab, tmp_path):
    r, r2 = lab.responder("cli1"), lab.responder("cli2")
    devices = inventory(tmp_path, {"cli1": r.device(auth="password"), "cli2": r2.device()})
    listed = cli(mistcli_bin, devices, "list")
    assert listed.returncode == 0 and PASSWORD not in listed.stdout
    assert {d["name"] for d in json.loads(listed.stdout)} == {"cli1", "cli2"}
    ran = cli(mistcli_bin, devices, "run", "cli1", "show version")
    assert ran.returncode == 0 and ran.stdout.startswith("Hostname: cli1"), ran
    as_json = cli(mistcli_bin, devices, "-o", "json", "run", "cli1", "show version")
    assert json.loads(as_json.stdout)["router_name"] == "cli1"
    both = cli(mistcli_bin, devices, "run", "--devices", "cli1,cli2,nope", "show version")
    assert both.returncode == 1 and [a["ok"] for a in json.loads(both.stdout)] == [True, True, False], both
    assert cli(mistcli_bin, devices, "run", "cli1", "req sys reb").returncode == 2
    assert cli(mistcli_bin, devices, "run", "nope", "show version").returncode == 4
    assert "host-name cli1;" in cli(mistcli_bin, devices, "config", "cli1", "--format", "text").stdout
    assert "configuration" in json.loads(cli(mistcli_bin, devices, "-o", "json", "config", "cli1", "--format", "json").stdout)["output"]
    assert "[edit]" in cli(mistcli_bin, devices, "diff", "cli1", "--rollback", "1").stdout
    facts = cli(mistcli_bin, devices, "facts", "cli1", "--jq", ".output.serial_number")
    assert facts.stdout.strip() == "VM-cli1-0001", facts

    change = tmp_path / "change.set"
    change.write_text("set interfaces ge-0/0/5 description from-cli\n")
    unasked = cli(mistcli_bin, devices, "commit", "cli1", "--file", str(change))
    assert unasked.returncode == 2 and "add --yes" in unasked.stderr and commits(r) == [], unasked
    dry = cli(mistcli_bin, devices, "commit", "cli1", "--file", str(change), "--dry-run")
    assert dry.returncode == 0 and json.loads(dry.stdout)["outcome"] == "dry_run" and commits(r) == []
    done = cli(mistcli_bin, devices, "commit", "cli1", "--file", str(change), "--yes", "--check-after", "0",
               "--confirm-minutes", "2", "--comment", "from the shell")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["outcome"] == "committed", done
    assert "+  set interfaces ge-0/0/5 description from-cli" in done.stderr
    assert commits(r)[0]["text"].startswith("2"), commits(r)  # <confirm-timeout>2</confirm-timeout> first
    again = cli(mistcli_bin, devices, "commit", "cli1", "--file", str(change), "--yes")
    assert again.returncode == 0 and json.loads(again.stdout)["outcome"] == "no_change"
    denied = tmp_path / "denied.set"
    denied.write_text("set system login user eve class super-user\n")
    refused = cli(mistcli_bin, devices, "commit", "cli1", "--file", str(denied), "--yes")
    assert refused.returncode == 2 and "deny-list" in refused.stderr


# --- standard NETCONF: netconfd ----------------------------------------------------------------


@pytest.mark.parametrize("framing", ["1.1", "1.0"])
@pytest.mark.parametrize("auth", ["key", "password"])
def test_netconfd_commits_through_lock_edit_config_validate_and_confirmed_commit(mistcli_bin, lab, tmp_path, framing, auth):
    nd = lab.netconfd(framing=framing)
    devices = inventory(tmp_path, {"nd": nd.device(auth=auth)})
    change = tmp_path / "change.xml"
    change.write_text(xml_config(f"nd-{framing}-{auth}"))
    done = cli(mistcli_bin, devices, "commit", "nd", "--file", str(change), "--yes", "--check-after", "0")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["outcome"] == "committed", (done.stdout, done.stderr)
    assert "+  <host-name>nd-" in report["diff"], report["diff"]
    assert host_name(lab, nd) == f"nd-{framing}-{auth}"
    shown = cli(mistcli_bin, devices, "config", "nd", "--format", "xml")
    assert f"<host-name>nd-{framing}-{auth}</host-name>" in shown.stdout
    # Junos-only requests are refused with a reason, not sent as unknown RPCs.
    junos_only = cli(mistcli_bin, devices, "run", "nd", "show version")
    assert junos_only.returncode == 1 and "not Junos" in junos_only.stderr, junos_only.stderr
    not_xml = tmp_path / "change.set"
    not_xml.write_text("set system host-name x\n")
    assert "loads XML configurations only" in cli(mistcli_bin, devices, "commit", "nd", "--file", str(not_xml), "--yes").stderr


def test_netconfd_reverts_a_confirmed_commit_that_is_never_confirmed(mistcli_bin, lab, tmp_path):
    nd = lab.netconfd()
    devices = inventory(tmp_path, {"nd": nd.device()})
    change = tmp_path / "change.xml"
    change.write_text(xml_config("never-confirmed"))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}
    proc = subprocess.Popen([mistcli_bin, "junos", "--junos-devices", str(devices), "commit", "nd", "--file", str(change),
                             "--yes", "--check-after", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 30
        while host_name(lab, nd) != "never-confirmed":
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        proc.kill()  # mistcli dies between the confirmed commit and its confirmation
        proc.wait()
        deadline = time.monotonic() + 15
        while host_name(lab, nd) == "never-confirmed":
            assert time.monotonic() < deadline, "the unconfirmed commit did not revert"
            time.sleep(0.5)
    finally:
        proc.kill()
        proc.communicate()


# --- the team server ---------------------------------------------------------------------------


async def test_an_inventory_bound_to_a_server_token_is_that_tokens_alone(mistmcp_bin, lab, tmp_path):
    from http_support import HttpServer, http_session

    r = lab.responder("team-router")
    team = inventory(tmp_path, {"team-router": r.device(auth="password")})
    store = tmp_path / "tokens.json"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}

    def create(*args):
        return subprocess.run([mistmcp_bin, "--tokens-file", str(store), "tokens", "create", *args],
                              capture_output=True, text=True, env=env, timeout=30)

    missing = create("--id", "bad", "--junos-devices", str(tmp_path / "none.json"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    netops = create("--id", "netops", "--junos-devices", str(team)).stdout.strip()
    helpdesk = create("--id", "helpdesk").stdout.strip()
    listed = subprocess.run([mistmcp_bin, "--tokens-file", str(store), "tokens", "list"], capture_output=True,
                            text=True, env=env, timeout=30).stdout
    assert f"(Junos devices: {team.resolve()})" in listed, listed
    server = HttpServer(mistmcp_bin, ["--tokens-file", str(store)], env={"MIST_HOST": "api.mist.com"})
    try:
        async with http_session(server.url, {"Authorization": f"Bearer {netops}"}) as (s, _):
            names = {t.name for t in (await s.list_tools()).tools}
            assert JUNOS_TOOLS <= names
            routers = json.loads((await s.call_tool("get_router_list", {})).content[0].text)
            assert [d["name"] for d in routers["routers"]] == ["team-router"]
            shown = json.loads((await s.call_tool("execute_junos_command", {"router_name": "team-router", "command": "show version"})).content[0].text)
            assert shown["ok"], shown
        async with http_session(server.url, {"Authorization": f"Bearer {helpdesk}"}) as (s, _):
            assert not JUNOS_TOOLS & {t.name for t in (await s.list_tools()).tools}
        assert PASSWORD not in server.text()
    finally:
        server.stop()


async def test_discovery_reaches_the_junos_tools(mistmcp_bin, lab, tmp_path):
    r = lab.responder("found")
    devices = inventory(tmp_path, {"found": r.device()})
    async with mcp(mistmcp_bin, devices) as c:
        found = answer(await c.call("mist_search_operations", {"query": "run a show command on a junos router"}))
        assert "execute_junos_command" in [t["operation_id"] for t in found["junos_tools"]], found
        unrelated = answer(await c.call("mist_search_operations", {"query": "list org sites"}))
        assert "junos_tools" not in unrelated
        described = answer(await c.call("mist_describe_operation", {"operation_id": "junos_config_diff"}))
        assert described["input_schema"]["properties"]["version"]["maximum"] == 49
        called = answer(await c.call("mist_call_operation", {"operation_id": "gather_device_facts", "arguments": {"router_name": "found"}}))
        assert called["output"]["hostname"] == "found", called
        hidden = await c.call("mist_call_operation", {"operation_id": "load_and_commit_config",
                                                      "arguments": {"router_name": "found", "config_text": "set x"}})
        assert hidden.is_error and commits(r) == []


async def test_an_xml_configuration_cannot_smuggle_rpcs_past_the_framing(mistmcp_bin, lab, tmp_path):
    r = lab.responder("framed", framing="1.0")
    devices = inventory(tmp_path, {"r": r.device()})
    smuggled = ('<configuration><system><host-name>harmless</host-name></system><!--]]>]]><rpc message-id="a1">'
                '<load-configuration action="set" format="text"><configuration-set>set system login user eve class '
                'super-user</configuration-set></load-configuration></rpc>]]>]]><rpc message-id="a2">'
                '<commit-configuration/></rpc>]]>]]>--></configuration>')
    async with mcp(mistmcp_bin, devices) as c:
        result = answer(await c.call("render_and_apply_j2_template", {
            "template_content": smuggled, "router_name": "r", "config_format": "xml"}))
    assert result["results"][0]["outcome"] == "dry_run", result
    assert commits(r) == [] and not any("eve" in line for line in r.state()["running"]), r.rpcs()
    loads = [x for x in r.rpcs() if x["rpc"] == "load-configuration"]
    assert len(loads) == 1 and "]]>" not in loads[0]["text"], loads


async def test_arguments_of_the_wrong_type_are_errors_not_defaults(mistmcp_bin, lab, tmp_path):
    r = lab.responder("typed")
    devices = inventory(tmp_path, {"r": r.device()})
    async with mcp(mistmcp_bin, devices) as c:
        for tool, args, why in [
            ("junos_config_diff", {"router_name": "r", "version": "2"}, "`version` must be a non-negative integer"),
            ("junos_config_diff", {"router_name": "r", "version": 50}, "from 1 to 49"),
            ("execute_junos_command", {"router_name": "r", "command": "show version", "timeout": "5"}, "`timeout`"),
            ("render_and_apply_j2_template", {"template_content": "x", "dry_run": "false"}, "true or false"),
            ("execute_junos_command_batch", {"router_names": ["r", 7], "command": "show version"}, "a list of strings"),
        ]:
            result = await c.call(tool, args)
            assert result.is_error and why in result_text(result), (tool, args, result_text(result))
        batch = answer(await c.call("execute_junos_command_batch", {"router_names": ["r"] * 50, "command": "show version"}))
    assert batch["summary"]["total"] == 1, batch["summary"]
    assert r.rpcs() == [x for x in r.rpcs() if x["rpc"] in ("command", "close-session")] and len(commands_of(r)) == 1


def commands_of(dev) -> list[dict]:
    return [x for x in dev.rpcs() if x["rpc"] == "command"]


async def test_a_template_that_takes_all_memory_ends_only_its_renderer(mistmcp_bin, lab, tmp_path):
    r = lab.responder("hungry")
    devices = inventory(tmp_path, {"r": r.device()})
    async with mcp(mistmcp_bin, devices) as c:
        for template in ['{{ "x" * 10**13 }}',
                         # 1 MB doubled ten times: 1 GiB, more than the renderer may use.
                         '{% set a = "x" * 1000000 %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}'
                         '{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}'
                         '{% set a = a ~ a %}{% set a = a ~ a %}{{ a|length }}']:
            result = await c.call("render_and_apply_j2_template", {"template_content": template, "router_name": "r"})
            assert result.is_error and ("MiB of memory" in result_text(result) or "too large" in result_text(result)), result_text(result)
        # The server lives on, and renders ordinary templates.
        fine = answer(await c.call("render_and_apply_j2_template", {"template_content": "set system host-name {{ router_name }}"}))
        assert fine["rendered"] == "set system host-name ", fine


async def test_device_secrets_are_handles_and_a_commit_puts_them_back(mistmcp_bin, lab, tmp_path):
    """Issue 17: a configuration read in any format shows secrets as handles; a commit that
    carries a handle back loads the device's own value, and the human's question shows handles."""
    r = lab.responder("sec1")
    devices = inventory(tmp_path, {"sec1": r.device()})
    secrets = ["Comm-S3cret", "$9$Hid.Den"]
    seen: list[str] = []
    async with mcp(mistmcp_bin, devices, "--enable-write-tools", elicitation=answering("accept", seen)) as c:
        first = await c.call("load_and_commit_config", {
            "router_name": "sec1", "check_after_seconds": 0,
            "config_text": 'set snmp community Comm-S3cret authorization read-only\n'
                           'set access radius-server 10.0.0.9 secret "$9$Hid.Den"'})
        assert answer(first)["outcome"] == "committed", result_text(first)
        shown = {}
        for fmt in ("set", "text", "xml", "json"):
            shown[fmt] = result_text(await c.call("get_junos_config", {"router_name": "sec1", "format": fmt}))
            assert not [s for s in secrets if s in shown[fmt]], (fmt, shown[fmt])
            assert "\u00absecret:community:" in shown[fmt], (fmt, shown[fmt])
        line = next(x for x in answer_of(shown["set"]).splitlines() if x.startswith("set snmp community"))
        second = await c.call("load_and_commit_config", {
            "router_name": "sec1", "check_after_seconds": 0,
            "config_text": line.replace("read-only", "read-write")})
        assert answer(second)["outcome"] == "committed", result_text(second)
        # Somewhere no secret belongs, the handle is refused before the device is reached.
        misplaced = answer(await c.call("load_and_commit_config", {
            "router_name": "sec1", "config_text": f"set system host-name {line.split()[3]}"}))
        assert misplaced["outcome"] == "not_committed" and "where no secret belongs" in misplaced["message"], misplaced
        assert not [s for s in secrets if s in result_text(first) + result_text(second) + c.stderr()]
    assert len(seen) == 2 and not [s for s in secrets if s in "".join(seen)], seen
    assert "set snmp community Comm-S3cret authorization read-write" in r.state()["running"]


def answer_of(text: str) -> str:
    return json.loads(text)["output"]
