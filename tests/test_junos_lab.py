"""The Junos-over-NETCONF test parts themselves (tests/junos_lab.py), checked with ncclient, an
independent NETCONF client: private sshd instances whose netconf subsystem is yuma123's netconfd
or our Junos-reply responder. Installed by scripts/setup.sh, so nothing here is skipped."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time

import pytest
from ncclient import manager
from ncclient.operations.errors import TimeoutExpiredError
from ncclient.operations.rpc import RPCError
from ncclient.transport.errors import TransportError
from ncclient.transport.session import NetconfBase
from ncclient.xml_ import to_ele

import ncclient.transport.session

import junos_lab
from junos_lab import PASSWORD, USER, YANG_NS, Lab, responder_rpcs

BASE_1_1 = "urn:ietf:params:netconf:base:1.1"

# ncclient's session thread sends what is queued only between 0.1 s selects: every RPC would
# wait up to 0.1 s.
ncclient.transport.session.TICK = 0.005


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("junos-lab"))
    yield lab
    lab.stop()


def connect(lab: Lab, dev, auth: str = "key", junos: bool = False, timeout: float = 10):
    kw = dict(host="127.0.0.1", port=dev.port, username=USER, hostkey_verify=False,
              allow_agent=False, look_for_keys=False, timeout=timeout)
    if auth == "key":
        kw["key_filename"] = str(lab.client_key)
    else:
        kw["password"] = PASSWORD
    if junos:
        kw["device_params"] = {"name": "junos"}
    return manager.connect(**kw)


def server_fingerprint(m) -> str:
    key = m._session._transport.get_remote_server_key()
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def host_name(m, source: str = "running") -> str | None:
    data = m.get_config(source, filter=("subtree", f'<system xmlns="{YANG_NS}"/>')).data_ele
    el = data.find(f".//{{{YANG_NS}}}host-name")
    return None if el is None else el.text


def is_ok(reply) -> bool:
    """<ok/> in a reply (ncclient's Junos handler answers its RPCs with a bare NCElement)."""
    return bool(reply.xpath("//ok"))


def edit_host_name(m, name: str) -> None:
    m.edit_config(target="candidate",
                  config=f'<config><system xmlns="{YANG_NS}"><host-name>{name}</host-name></system></config>')


# ---------------------------------------------------------------------------------------------
# the lab

def test_startup_is_fast_and_devices_are_distinct(lab):
    t = time.monotonic()
    devs = [lab.responder(f"fast{i}") for i in range(4)] + [lab.netconfd()]
    per_device = (time.monotonic() - t) / len(devs)
    assert per_device < 0.5, per_device
    assert len({d.port for d in devs}) == len(devs)
    assert len({d.fingerprint for d in devs}) == len(devs)
    assert all(d.fingerprint.startswith("SHA256:") for d in devs)
    entry = devs[0].device()
    assert entry == {"ip": "127.0.0.1", "port": devs[0].port, "username": USER,
                     "auth": {"type": "ssh_key", "private_key_path": str(lab.client_key)},
                     "host_key": devs[0].fingerprint}
    assert devs[0].device(auth="password", pin=False) == {
        "ip": "127.0.0.1", "port": devs[0].port, "username": USER,
        "auth": {"type": "password", "password": PASSWORD}}
    for d in devs:
        d.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", devs[0].port), timeout=2)


def test_dead_port_refuses(lab):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", lab.dead_port()), timeout=2)


def test_bad_password_is_refused(lab):
    dev = lab.responder("pw")
    with pytest.raises(Exception):
        manager.connect(host="127.0.0.1", port=dev.port, username=USER, password="wrong",
                        hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=5)
    assert not responder_rpcs(dev.state_dir, include_events=True)


# ---------------------------------------------------------------------------------------------
# netconfd

@pytest.mark.parametrize("auth,framing", [("key", "1.1"), ("password", "1.1"),
                                          ("key", "1.0"), ("password", "1.0")])
def test_netconfd_edit_validate_commit(lab, auth, framing):
    dev = lab.netconfd(framing=framing)
    with connect(lab, dev, auth=auth) as m:
        assert server_fingerprint(m) == dev.fingerprint
        assert (BASE_1_1 in m.server_capabilities) == (framing == "1.1")
        assert m._session._base == (NetconfBase.BASE_11 if framing == "1.1" else NetconfBase.BASE_10)
        assert any(c.startswith(f"{YANG_NS}?module=mistmcp-test") for c in m.server_capabilities)
        assert m.lock("candidate").ok
        edit_host_name(m, "x")
        assert host_name(m, "candidate") == "x"
        assert host_name(m) is None
        assert m.commit().ok
        assert host_name(m) == "x"
        # (validate after the commit: see the next test for a validate before it)
        assert m.validate(source="candidate").ok
        assert m.unlock("candidate").ok
        assert host_name(m) == "x"


def test_netconfd_validate_drops_the_edits_before_it_from_the_next_commit(lab):
    """A netconfd 2.13 quirk that a client must not trip on: after <validate> of the candidate,
    <commit/> answers <ok/> but applies only the edits made after the validate; the earlier ones,
    still shown in the candidate until then, are lost."""
    dev = lab.netconfd()
    with connect(lab, dev) as m:
        edit_host_name(m, "before-validate")
        assert m.validate(source="candidate").ok
        assert host_name(m, "candidate") == "before-validate"
        assert m.commit().ok
        assert host_name(m) is None
        assert host_name(m, "candidate") is None
        edit_host_name(m, "after-validate")
        assert m.commit().ok
        assert host_name(m) == "after-validate"


def test_netconfd_confirmed_commit_reverts_by_itself(lab):
    dev = lab.netconfd()
    with connect(lab, dev) as m:
        edit_host_name(m, "confirm-me")
        assert m.commit(confirmed=True, timeout="2").ok  # RFC 6241: seconds
        assert host_name(m) == "confirm-me"
        # netconfd checks its timers only after 1 s without traffic: poll slower than that.
        deadline = time.monotonic() + 10
        while host_name(m) == "confirm-me" and time.monotonic() < deadline:
            time.sleep(1.2)
        assert host_name(m) is None


def test_netconfd_cancel_commit_and_confirming_commit(lab):
    dev = lab.netconfd()
    with connect(lab, dev) as m:
        edit_host_name(m, "cancel-me")
        assert m.commit(confirmed=True, timeout="60").ok
        assert host_name(m) == "cancel-me"
        assert m.cancel_commit().ok
        assert host_name(m) is None
        edit_host_name(m, "keep-me")
        assert m.commit(confirmed=True, timeout="60").ok
        assert m.commit().ok  # confirming commit
    with connect(lab, dev) as m:  # the confirmed session is gone: still there
        assert host_name(m) == "keep-me"


def test_netconfd_refuses_junos_rpcs(lab):
    dev = lab.netconfd()
    with connect(lab, dev) as m:
        with pytest.raises(RPCError):
            m.dispatch(to_ele('<command format="text">show version</command>'))


# ---------------------------------------------------------------------------------------------
# the Junos responder

def test_responder_operational_rpcs(lab):
    dev = lab.responder("vmx-op")
    with connect(lab, dev, auth="password", junos=True) as m:
        assert server_fingerprint(m) == dev.fingerprint
        assert m._session._base == NetconfBase.BASE_11
        assert "http://xml.juniper.net/netconf/junos/1.0" in m.server_capabilities
        out = m.command("show version", format="text").xpath("//output")[0].text
        assert out.strip().splitlines() == ["Hostname: vmx-op", "Model: vmx", "Junos: 23.4R1.9"]
        out = m.command("show interfaces terse", format="text").xpath("//output")[0].text
        assert "ge-0/0/0" in out
        out = m.command('request pfe execute target fpc0 command "show jnh 0 pool"',
                        format="text").xpath("//output")[0].text
        assert "show jnh 0 pool" in out and "GOT:" in out
        out = m.command("show route", format="text").xpath("//output")[0].text
        assert out.strip() == "ran: show route"
        sw = m.rpc(to_ele("<get-software-information/>"))
        assert sw.xpath("//software-information/host-name")[0].text == "vmx-op"
        assert sw.xpath("//junos-version")[0].text == "23.4R1.9"
        inv = m.rpc(to_ele("<get-chassis-inventory/>"))
        assert inv.xpath("//chassis/serial-number")[0].text == "VM-vmx-op-0001"
        with pytest.raises(RPCError, match="syntax error, expecting <command>"):
            m.rpc(to_ele("<get-route-information/>"))
    rpcs = responder_rpcs(dev.state_dir)
    assert [r["rpc"] for r in rpcs] == ["command"] * 4 + [
        "get-software-information", "get-chassis-inventory", "get-route-information", "close-session"]
    assert rpcs[0]["attrs"] == {"format": "text"} and rpcs[0]["text"] == "show version"
    assert all(r["message_id"] for r in rpcs[:-1])


def test_responder_get_configuration_formats(lab):
    dev = lab.responder("vmx-cfg")
    with connect(lab, dev, junos=True) as m:
        s = m.get_configuration(format="set").xpath("//configuration-set")[0].text
        assert s.strip().splitlines() == ["set system host-name vmx-cfg",
                                          "set interfaces ge-0/0/0 description uplink"]
        t = m.get_configuration(format="text").xpath("//configuration-text")[0].text
        assert "host-name vmx-cfg;" in t and "ge-0/0/0 {" in t and "description uplink;" in t
        j = json.loads(m.get_configuration(format="json").xpath("/rpc-reply")[0].text)
        assert j["configuration"]["system"]["host-name"] == "vmx-cfg"
        assert j["configuration"]["interfaces"]["interface"][0] == {"name": "ge-0/0/0",
                                                                    "description": "uplink"}
        x = m.get_configuration(format="xml")
        assert x.xpath("//configuration/interfaces/interface/description")[0].text == "uplink"


def test_responder_load_check_confirmed_and_confirming_commit(lab):
    dev = lab.responder("vmx-commit")
    with connect(lab, dev, junos=True) as m:
        assert is_ok(m.lock())
        r = m.load_configuration(action="set", config=["set system services ssh root-login deny",
                                                        "delete interfaces ge-0/0/0"])
        assert r.xpath("//load-success")
        assert dev.state()["candidate"] == ["set system host-name vmx-commit",
                                            "set system services ssh root-login deny"]
        assert dev.state()["running"] != dev.state()["candidate"]
        assert m.commit(check=True).xpath("//commit-check-success")
        r = m.commit(confirmed=True, timeout="600", comment="by the lab test")
        assert r.xpath("//commit-success")
        st = dev.state()
        assert st["running"] == st["candidate"] and 500 < st["pending"] - time.time() <= 600
        assert st["history"][0] == ["set system host-name vmx-commit",
                                    "set interfaces ge-0/0/0 description uplink"]
        assert m.commit().xpath("//commit-success")  # the confirming commit
        assert dev.state()["pending"] is None
        assert len(dev.state()["history"]) == 4
        assert is_ok(m.unlock())
    commit = [r for r in responder_rpcs(dev.state_dir) if r["rpc"] == "commit-configuration"]
    assert [c["children"] for c in commit] == [["check"], ["confirmed", "confirm-timeout", "log"], []]
    assert "10" in commit[1]["text"]  # ncclient gives Junos minutes


def test_responder_confirmed_commit_reverts_and_refuses_sessions(lab):
    dev = lab.responder("vmx-revert")
    dev.refuse_new_sessions_while_pending()
    with connect(lab, dev, junos=True) as m:
        m.load_configuration(action="set", config=["set system host-name changed"])
        r = m.rpc(to_ele("<commit-configuration><confirmed/><confirm-timeout>0.04</confirm-timeout>"
                         "</commit-configuration>"))  # 2.4 s
        assert r.xpath("//commit-success")
        st = dev.state()
        assert "set system host-name changed" in st["running"]
    with pytest.raises(TransportError):  # pending, and the flag: the device is unreachable
        connect(lab, dev, junos=True, timeout=5)
    assert time.time() < st["pending"]  # (else the refusal above proved nothing)
    time.sleep(max(0.0, st["pending"] - time.time()) + 0.05)
    with connect(lab, dev, junos=True) as m:  # reverted, so reachable again
        s = m.get_configuration(format="set").xpath("//configuration-set")[0].text
        assert "set system host-name vmx-revert" in s and "changed" not in s
    events = [e["event"] for e in dev.rpcs(include_events=True) if "event" in e]
    assert "refused" in events and "reverted" in events


def test_responder_load_errors_and_commit_check_failure(lab):
    dev = lab.responder("vmx-err")
    with connect(lab, dev, junos=True) as m:
        with pytest.raises(RPCError, match="syntax error: invalid-statement"):
            m.load_configuration(action="set", config=["set system invalid-statement yes"])
        assert dev.state()["candidate"] == dev.state()["running"]
        m.load_configuration(action="merge", format="text",
                             config="system { services { ssh { root-login commit-check-fails; } } }")
        assert "set system services ssh root-login commit-check-fails" in dev.state()["candidate"]
        with pytest.raises(RPCError, match="commit check failed"):
            m.commit(check=True)
        with pytest.raises(RPCError, match="commit check failed"):
            m.validate()
        with pytest.raises(RPCError, match="commit check failed"):
            m.commit()
        assert is_ok(m.rpc(to_ele("<discard-changes/>")))
        assert dev.state()["candidate"] == dev.state()["running"]
        m.load_configuration(action="merge", format="xml", config=to_ele(
            "<system><login><user><name>bob</name><class>super-user</class></user></login></system>"))
        assert "set system login user bob class super-user" in dev.state()["candidate"]


def test_responder_rollback_compare_and_load(lab):
    dev = lab.responder("vmx-rb")
    with connect(lab, dev, junos=True) as m:
        def compare(n):
            return m.compare_configuration(rollback=n).xpath("//configuration-output")[0].text or ""
        assert compare(0).strip() == ""
        m.load_configuration(action="set", config=["set system host-name vmx-rb2"])
        assert compare(0).strip().splitlines() == ["[edit]", "-  set system host-name vmx-rb",
                                                   "+  set system host-name vmx-rb2"]
        assert "-  set interfaces ge-0/0/0 description old-uplink" in compare(1)
        assert "-  set system host-name vmx-rb-factory" in compare(3)
        with pytest.raises(RPCError, match="rollback 4 is not available"):
            compare(4)
        assert m.rollback(rollback=3).xpath("//load-success")
        assert dev.state()["candidate"] == ["set system host-name vmx-rb-factory"]


def test_responder_lock_is_exclusive(lab):
    dev = lab.responder("vmx-lock")
    m1 = connect(lab, dev, junos=True)
    with connect(lab, dev, junos=True) as m2:
        assert is_ok(m1.lock())
        holder = dev.state()["lock"]
        with pytest.raises(RPCError, match=f"locked by another session \\(pid {holder}\\)"):
            m2.rpc(to_ele("<lock-configuration/>"))
        with pytest.raises(RPCError, match="locked by another session"):
            m2.load_configuration(action="set", config=["set system host-name stolen"])
        m1.load_configuration(action="set", config=["set system host-name mine"])
        m1.close_session()  # Junos: the lock goes, and what was not committed with it
        deadline = time.monotonic() + 5
        while dev.state()["lock"] is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert is_ok(m2.rpc(to_ele("<lock-configuration/>")))
        assert "set system host-name mine" not in dev.state()["candidate"]


def test_responder_framing_1_0(lab):
    dev = lab.responder("vmx-eom", framing="1.0")
    with connect(lab, dev, junos=True) as m:
        assert BASE_1_1 not in m.server_capabilities
        assert m._session._base == NetconfBase.BASE_10
        assert "Hostname: vmx-eom" in m.command("show version", format="text").xpath("//output")[0].text
    hello = [e for e in dev.rpcs(include_events=True) if e.get("event") == "hello"]
    assert hello[0]["framing"] == "1.0"


def test_responder_stall_times_out(lab):
    dev = lab.responder("vmx-stall", mode="stall")
    m = connect(lab, dev, junos=True)
    m.timeout = 1.5
    t = time.monotonic()
    with pytest.raises(TimeoutExpiredError):
        m.command("show version", format="text")
    assert 1.4 < time.monotonic() - t < 5
    m._session.close()
    assert [r["rpc"] for r in responder_rpcs(dev.state_dir)] == ["command"]


def test_responder_close_mode_closes_mid_rpc(lab):
    dev = lab.responder("vmx-close", mode="close")
    m = connect(lab, dev, junos=True)
    t = time.monotonic()
    with pytest.raises(TransportError):
        m.command("show version", format="text")
    assert time.monotonic() - t < 5
    assert [r["rpc"] for r in responder_rpcs(dev.state_dir)] == ["command"]


def test_responder_sessions_in_parallel(lab):
    dev = lab.responder("vmx-par")
    sessions = [connect(lab, dev, junos=True) for _ in range(5)]
    for i, m in enumerate(sessions):
        out = m.command(f"show system uptime {i}", format="text").xpath("//output")[0].text
        assert out.strip() == f"ran: show system uptime {i}"
    for m in sessions:
        m.close_session()
    pids = {r["pid"] for r in responder_rpcs(dev.state_dir)}
    assert len(pids) == 5


def test_lab_stop_ends_everything(tmp_path):
    lab2 = Lab(tmp_path)
    nd, rs = lab2.netconfd(), lab2.responder("gone", mode="stall")
    m = connect(lab2, rs, junos=True)
    procs = [nd.sshd_proc, nd.netconfd_proc, rs.sshd_proc]
    tree = [p for pr in procs for p in junos_lab._descendants(pr.pid)]
    assert tree  # the stalled session
    lab2.stop()
    assert all(p.poll() is not None for p in procs)
    assert not any(junos_lab._alive(p) for p in tree)
    m._session.close()
