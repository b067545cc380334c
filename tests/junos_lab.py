"""Real Junos-over-NETCONF test devices: private OpenSSH sshd instances on 127.0.0.1 whose `netconf`
subsystem is yuma123's netconfd or our Junos-reply responder (tests/junos_responder.py).

Plain functions and classes, no pytest fixtures:

    lab = Lab(tmp_path)                  # keys made once per lab
    r1 = lab.responder("vmx1")           # an sshd + responder; r1.port, r1.fingerprint, r1.state_dir
    nd = lab.netconfd(framing="1.0")     # an sshd + netconfd
    entry = r1.device(auth="password")   # a devices.json entry (junos-mcp-server format)
    responder_rpcs(r1.state_dir)         # what the responder was asked
    lab.stop()                           # everything it started (also done at interpreter exit)

The parts are installed by scripts/setup.sh (openssh-server, netconfd, the login mistmcp-nc).
sshd runs the subsystem as mistmcp-nc, which cannot enter root's private directories (pytest's
tmp_path is 0700): what that user must reach (authorized_keys, the responder script, its state
directories, netconfd's sockets) lives in a world-traversable directory of the lab's own under /tmp.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESPONDER = HERE / "junos_responder.py"
YANG_DIR = HERE / "netconf"
YANG_MODULE = "mistmcp-test"
YANG_NS = "urn:mistmcp:test"

USER = "mistmcp-nc"
PASSWORD = "nc-test-pass-4d2f"
SSHD = "/usr/sbin/sshd"
NETCONFD = "/usr/sbin/netconfd"
NETCONF_SUBSYSTEM = "/usr/sbin/netconf-subsystem"
REFUSE_FLAG = "refuse-new-sessions-while-pending"

START_TIMEOUT = 10.0


class LabError(RuntimeError):
    """A part of the lab could not start; the message carries the part's own log."""


# ---------------------------------------------------------------------------------------------
# helpers

def fingerprint(public_key_path: str | os.PathLike) -> str:
    """The key's SHA256 fingerprint as `ssh-keygen -lf` prints it: `SHA256:...`."""
    out = subprocess.run(["ssh-keygen", "-lf", str(public_key_path)], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _responder_python() -> str:
    """An interpreter the login mistmcp-nc may run: the venv's points into /root."""
    for p in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(p, os.X_OK):
            return p
    return sys.executable


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _kill_tree(*procs: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Ends `procs` and everything under them: sshd's sessions call setsid, so a process group
    kill would miss them; the trees are taken before anyone is killed (orphans move to init).
    What `sig` has not ended within a second gets SIGKILL."""
    live = [p for p in procs if p.poll() is None]
    pids = [q for p in live for q in [p.pid] + _descendants(p.pid)]
    for s in (sig, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, s)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            for p in live:
                p.poll()
            if not any(_alive(pid) for pid in pids):
                return
            time.sleep(0.005)
        if s == signal.SIGKILL:
            break
    for p in live:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(1)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _responder_module():
    """tests/junos_responder.py as a module (its state functions), wherever tests/ is."""
    import importlib.util
    if "junos_responder" not in sys.modules:
        spec = importlib.util.spec_from_file_location("junos_responder", RESPONDER)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["junos_responder"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["junos_responder"]


def responder_rpcs(state_dir: str | os.PathLike, include_events: bool = False) -> list[dict]:
    """The responder's DIR/rpcs.jsonl: one dict per RPC ({"pid", "time", "rpc", "message_id",
    "attrs", "children", "text"}) in arrival order; with include_events, the events too
    ({"event": "hello" (with "framing"), "reverted", "refused", "session-end", ...})."""
    path = Path(state_dir) / "rpcs.jsonl"
    entries = [json.loads(l) for l in _read(path).splitlines() if l.strip()]
    return entries if include_events else [e for e in entries if "rpc" in e]


def responder_state(state_dir: str | os.PathLike) -> dict:
    """The responder's state.json as a new session would find it (a confirmed commit whose time
    has passed is reverted first): {"running", "candidate", "lock", "history", "pending", ...}."""
    state_dir = Path(state_dir)
    st_name = json.loads(_read(state_dir / "state.json") or "{}").get("name", "vmx1")
    dev = _responder_module().Device(str(state_dir), st_name)
    with dev.state() as st:
        copy = json.loads(json.dumps(st))
    # Read as root: what it wrote must stay the responder's (mistmcp-nc's) to open and replace.
    owner = state_dir.stat().st_uid
    for name in ("state.json", "lock", "rpcs.jsonl"):
        with contextlib.suppress(FileNotFoundError):
            os.chown(state_dir / name, owner, -1)
    return copy


# ---------------------------------------------------------------------------------------------
# devices

class Device:
    """One sshd (and netconfd) of the lab. `kind` is "netconfd" or "responder"."""

    def __init__(self, lab: "Lab", kind: str, name: str, port: int, host_key: Path,
                 sshd: subprocess.Popen, sshd_log: Path, framing: str, mode: str | None = None,
                 state_dir: Path | None = None, netconfd: subprocess.Popen | None = None,
                 netconfd_log: Path | None = None):
        self.lab = lab
        self.kind = kind
        self.name = name
        self.port = port
        self.framing = framing
        self.mode = mode
        self.state_dir = state_dir
        self.host_key_path = host_key
        self.host_public_key = Path(f"{host_key}.pub").read_text().split()[:2]  # [type, base64]
        self.fingerprint = fingerprint(f"{host_key}.pub")
        self.sshd_proc = sshd
        self.sshd_log_path = sshd_log
        self.netconfd_proc = netconfd
        self.netconfd_log_path = netconfd_log

    def __repr__(self) -> str:
        return f"<Device {self.kind} {self.name} 127.0.0.1:{self.port} {self.fingerprint}>"

    @property
    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {' '.join(self.host_public_key)}"

    def device(self, auth: str = "key", pin: bool = True) -> dict:
        """A devices.json entry in junos-mcp-server's format."""
        if auth == "key":
            a = {"type": "ssh_key", "private_key_path": str(self.lab.client_key)}
        elif auth == "password":
            a = {"type": "password", "password": PASSWORD}
        else:
            raise ValueError(f"auth must be 'key' or 'password', not {auth!r}")
        entry = {"ip": "127.0.0.1", "port": self.port, "username": USER, "auth": a}
        if pin:
            entry["host_key"] = self.fingerprint
        return entry

    def rpcs(self, include_events: bool = False) -> list[dict]:
        self._need_responder()
        return responder_rpcs(self.state_dir, include_events)

    def state(self) -> dict:
        self._need_responder()
        return responder_state(self.state_dir)

    def refuse_new_sessions_while_pending(self, on: bool = True) -> None:
        self._need_responder()
        flag = self.state_dir / REFUSE_FLAG
        if on:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)

    def logs(self) -> str:
        out = _read(self.sshd_log_path)
        if self.netconfd_log_path:
            out += "\n--- netconfd ---\n" + _read(self.netconfd_log_path)
        return out

    def stop(self) -> None:
        """Ends this device's sshd, its sessions and its netconfd (the port then refuses)."""
        # netconfd only looks at signals between 1 s selects: SIGKILL, it keeps nothing anyway.
        _kill_tree(*self._procs(), sig=signal.SIGKILL if self.netconfd_proc else signal.SIGTERM)

    def _procs(self) -> list[subprocess.Popen]:
        return [self.sshd_proc] + ([self.netconfd_proc] if self.netconfd_proc else [])

    @property
    def running(self) -> bool:
        return self.sshd_proc.poll() is None

    def _need_responder(self) -> None:
        if self.kind != "responder":
            raise TypeError("only a responder device keeps a state directory")


_labs: "set[Lab]" = set()  # strong references: a lab dropped without stop() still ends at exit


@atexit.register
def _stop_all() -> None:
    for lab in list(_labs):
        lab.stop()


class Lab:
    """A set of devices sharing one client key. `tmp_dir` holds the root-only parts (keys,
    configurations, logs); None makes a temporary directory removed by stop()."""

    def __init__(self, tmp_dir: str | os.PathLike | None = None):
        try:
            self.uid = pwd.getpwnam(USER).pw_uid
        except KeyError:
            raise LabError(f"no login {USER}: run scripts/setup.sh") from None
        for exe in (SSHD, NETCONFD, NETCONF_SUBSYSTEM):
            if not os.access(exe, os.X_OK):
                raise LabError(f"{exe} is missing: run scripts/setup.sh")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
        self._own_tmp = tmp_dir is None
        self.dir = Path(tempfile.mkdtemp(prefix="mistmcp-lab-") if tmp_dir is None else tmp_dir)
        self.dir = self.dir.resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        # What mistmcp-nc must reach (see the module's docstring).
        self.shared = Path(tempfile.mkdtemp(prefix="mistmcp-nc-", dir="/tmp"))
        self.shared.chmod(0o755)
        self.client_key = self.dir / "client_ed25519"
        if not self.client_key.exists():
            _keygen(self.client_key, "mistmcp-lab-client")
        self.client_public_key = Path(f"{self.client_key}.pub").read_text().strip()
        self.client_fingerprint = fingerprint(f"{self.client_key}.pub")
        self.authorized_keys = self.shared / "authorized_keys"
        self.authorized_keys.write_text(self.client_public_key + "\n")
        self.authorized_keys.chmod(0o644)
        self.responder_script = self.shared / "junos_responder.py"
        shutil.copyfile(RESPONDER, self.responder_script)
        self.responder_script.chmod(0o644)
        self.devices: list[Device] = []
        self._held: list[socket.socket] = []
        self._seq = 0
        self._stopped = False
        _labs.add(self)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -----------------------------------------------------------------------------------------
    def netconfd(self, framing: str = "1.1") -> Device:
        """An sshd whose netconf subsystem reaches a netconfd of its own (candidate target, the
        mistmcp-test YANG module, empty configuration). framing "1.0" limits netconfd to
        base:1.0 (EOM framing) with `--protocols=netconf1.0`."""
        if framing not in ("1.0", "1.1"):
            raise ValueError("framing must be '1.0' or '1.1'")
        n = self._next()
        for attempt in range(5):
            port = _free_port()
            sock = self.shared / f"ncx{n}-{attempt}.sock"
            home = self.dir / f"netconfd{n}"
            home.mkdir(exist_ok=True)
            log = self.dir / f"netconfd{n}.log"
            args = [NETCONFD, f"--port={port}", f"--ncxserver-sockname={sock}",
                    f"--superuser={USER}", "--no-startup", "--target=candidate",
                    f"--modpath={YANG_DIR}", f"--module={YANG_MODULE}", "--log-level=info"]
            if framing == "1.0":
                args.append("--protocols=netconf1.0")
            with open(log, "wb") as f:
                nd = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                      cwd=home, env={**os.environ, "HOME": str(home)},
                                      start_new_session=True)
            self._wait(lambda: sock.exists() and "Running netconfd server" in _read(log), nd, log,
                       "netconfd")
            subsystem = f"{NETCONF_SUBSYSTEM} --ncxserver-sockname={port}@{sock}"
            try:
                sshd, host_key, sshd_log = self._sshd(f"netconfd{n}", port, subsystem)
            except _PortTaken:
                _kill_tree(nd, sig=signal.SIGKILL)
                continue
            dev = Device(self, "netconfd", f"netconfd{n}", port, host_key, sshd, sshd_log, framing,
                         netconfd=nd, netconfd_log=log)
            self.devices.append(dev)
            return dev
        raise LabError("no free port for sshd after 5 attempts")

    def responder(self, name: str = "vmx1", mode: str = "normal", framing: str = "1.1") -> Device:
        """An sshd whose netconf subsystem is the Junos-reply responder, with a state directory of
        its own (`.state_dir`) holding state.json and rpcs.jsonl. mode: normal | stall | close."""
        if mode not in ("normal", "stall", "close"):
            raise ValueError("mode must be normal, stall or close")
        if framing not in ("1.0", "1.1"):
            raise ValueError("framing must be '1.0' or '1.1'")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ValueError(f"device name {name!r}: letters, digits, '.', '_', '-'")
        n = self._next()
        state_dir = self.shared / f"responder{n}-{name}"
        state_dir.mkdir()
        initial = _responder_module().initial_state(name)
        (state_dir / "state.json").write_text(json.dumps(initial, indent=1))
        for p in (state_dir, state_dir / "state.json"):
            os.chown(p, self.uid, -1)
        state_dir.chmod(0o755)
        subsystem = (f"{_responder_python()} -I {self.responder_script} --state {state_dir} "
                     f"--mode {mode} --framing {framing} --name {name}")
        for attempt in range(5):
            port = _free_port()
            try:
                sshd, host_key, sshd_log = self._sshd(f"responder{n}-{name}", port, subsystem)
            except _PortTaken:
                continue
            dev = Device(self, "responder", name, port, host_key, sshd, sshd_log, framing,
                         mode=mode, state_dir=state_dir)
            self.devices.append(dev)
            return dev
        raise LabError("no free port for sshd after 5 attempts")

    def dead_port(self) -> int:
        """A port on 127.0.0.1 where a connection is refused: bound, never listening, held until
        stop() so that nothing else takes it."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self._held.append(s)
        return s.getsockname()[1]

    def silent_port(self) -> int:
        """A port on 127.0.0.1 that accepts TCP connections (the kernel's backlog) and never says
        a word: an SSH banner that never comes."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        self._held.append(s)
        return s.getsockname()[1]

    def devices_json(self, devices: dict[str, Device], auth: str = "key", pin: bool = True) -> dict:
        """{name: entry} for a junos-mcp-server devices.json."""
        return {name: d.device(auth=auth, pin=pin) for name, d in devices.items()}

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        _kill_tree(*(p for d in self.devices for p in d._procs()), sig=signal.SIGKILL)
        for s in self._held:
            s.close()
        shutil.rmtree(self.shared, ignore_errors=True)
        if self._own_tmp:
            shutil.rmtree(self.dir, ignore_errors=True)
        _labs.discard(self)

    # -----------------------------------------------------------------------------------------
    def _next(self) -> int:
        if self._stopped:
            raise LabError("this lab was stopped")
        self._seq += 1
        return self._seq

    def _sshd(self, tag: str, port: int, subsystem: str) -> tuple[subprocess.Popen, Path, Path]:
        host_key = self.dir / f"{tag}_host_ed25519"
        if not host_key.exists():
            _keygen(host_key, f"mistmcp-lab-{tag}")
        config = self.dir / f"{tag}_sshd_config"
        log = self.dir / f"{tag}_sshd.log"
        config.write_text("\n".join([
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {host_key}",
            f"PidFile {self.dir / (tag + '_sshd.pid')}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            f"AllowUsers {USER}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin no",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "LoginGraceTime 30",
            "MaxStartups 200",
            "MaxSessions 50",
            "LogLevel VERBOSE",
            f"Subsystem netconf {subsystem}",
            "",
        ]))
        with open(log, "wb") as f:
            proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                    stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        listening = f"Server listening on 127.0.0.1 port {port}"
        try:
            self._wait(lambda: listening in _read(log), proc, log, "sshd")
        except LabError:
            if re.search(r"Address already in use|Cannot bind any address", _read(log)):
                _kill_tree(proc)
                raise _PortTaken() from None
            _kill_tree(proc)
            raise
        return proc, host_key, log

    @staticmethod
    def _wait(ready, proc: subprocess.Popen, log: Path, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.002
        while not ready():
            if proc.poll() is not None:
                raise LabError(f"{what} exited with {proc.returncode} before it was ready:\n{_read(log)}")
            if time.monotonic() > deadline:
                _kill_tree(proc, sig=signal.SIGKILL)
                raise LabError(f"{what} not ready after {START_TIMEOUT} s:\n{_read(log)}")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)


class _PortTaken(Exception):
    pass
