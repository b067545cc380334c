#!/usr/bin/env python3
"""A small Junos-reply NETCONF responder, run by a private sshd as its `netconf` subsystem.

    Subsystem netconf /usr/bin/python3 /path/junos_responder.py --state DIR \
        [--mode normal|stall|close] [--framing 1.0|1.1] [--name HOSTNAME]

netconfd (yuma123) answers standard NETCONF but refuses Junos RPCs (`<command>`,
`<get-configuration>`, `<load-configuration>`, `<commit-configuration>`): this answers them in the
shapes of Juniper's documented NETCONF examples, so that a client written for Junos can be tested
end to end over real SSH. Python standard library only: sshd runs it as the test login
(`mistmcp-nc`), which cannot reach the venv's interpreter.

One sshd session is one process; several may run at once against the same device. The device's
state lives in DIR/state.json, guarded by flock on DIR/lock:

    running, candidate   lists of `set ...` lines
    lock                 pid of the session holding the candidate lock, or null (a dead holder
                         frees it, and its uncommitted changes are discarded, as on Junos)
    history              earlier running configurations, newest first (rollback 1..49)
    pending              unix time at which a confirmed commit reverts, or null

Every RPC is appended to DIR/rpcs.jsonl ({"pid", "time", "rpc", "attrs", "children", "text",
"message_id"}), and so are events ({"event": "hello" | "reverted" | "refused" | "session-end"}).
If DIR/refuse-new-sessions-while-pending exists while a confirmed commit is pending, a new
session exits before its hello (a device that became unreachable after a commit).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shlex
import sys
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

BASE_1_0 = "urn:ietf:params:netconf:base:1.0"
BASE_1_1 = "urn:ietf:params:netconf:base:1.1"
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
JUNOS_NS = "http://xml.juniper.net/junos/23.4R1/junos"
XNM_NS = "http://xml.juniper.net/xnm/1.1/xnm"
EOM = b"]]>]]>"
JUNOS_VERSION = "23.4R1.9"
HISTORY_MAX = 49
REFUSE_FLAG = "refuse-new-sessions-while-pending"

# Leaves that hold one value: `set system host-name b` replaces `set system host-name a`, as on
# a device. Any other line only replaces an identical one (multi-valued statements add up).
SINGLE_VALUED = {
    "host-name", "description", "root-login", "class", "uid", "mtu", "domain-name",
    "time-zone", "location", "encapsulation", "vlan-id", "speed", "full-name", "message",
    "encrypted-password", "authentication-order", "mode", "preference", "metric",
}
# Statements whose children are named entries (`<user><name>bob</name>...</user>` in XML).
LIST_WORDS = {"user", "unit", "group", "neighbor", "term", "policy-statement", "prefix-list",
              "filter", "vlan", "address", "route", "interface", "community", "radius-server"}


class Abort(Exception):
    """The session ends here (EOF, framing error, close-session)."""


# ------------------------------------------------------------------------------------------
# state

def initial_state(name: str) -> dict:
    running = [f"set system host-name {name}", "set interfaces ge-0/0/0 description uplink"]
    history = [
        [f"set system host-name {name}", "set interfaces ge-0/0/0 description old-uplink"],
        [f"set system host-name {name}", "set interfaces ge-0/0/0 description staging"],
        [f"set system host-name {name}-factory"],
    ]
    return {"name": name, "running": list(running), "candidate": list(running), "lock": None,
            "history": history, "pending": None}


def pid_alive(pid) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Device:
    """DIR/state.json under flock(DIR/lock); `with device.state() as st:` reads, yields, saves."""

    def __init__(self, state_dir: str, name: str):
        self.dir = state_dir
        self.name = name
        self.state_path = os.path.join(state_dir, "state.json")
        self.log_path = os.path.join(state_dir, "rpcs.jsonl")

    @contextlib.contextmanager
    def state(self):
        with open(os.path.join(self.dir, "lock"), "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                try:
                    with open(self.state_path) as f:
                        st = json.load(f)
                except FileNotFoundError:
                    st = initial_state(self.name)
                before = json.dumps(st, sort_keys=True)
                self.settle(st)
                yield st
                if json.dumps(st, sort_keys=True) != before or not os.path.exists(self.state_path):
                    self._save(st)
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _save(self, st: dict) -> None:
        tmp = f"{self.state_path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(st, f, indent=1)
        if os.geteuid() == 0:  # the test harness (root) settling state: keep the file the device's
            d = os.stat(self.dir)
            os.chown(tmp, d.st_uid, d.st_gid)
        os.replace(tmp, self.state_path)

    def settle(self, st: dict) -> None:
        """What time and dead sessions did since the last look: a confirmed commit that was not
        confirmed in time is rolled back, a dead session's lock is freed and its changes dropped."""
        if st.get("pending") is not None and time.time() >= st["pending"]:
            if st["history"]:
                st["running"] = st["history"].pop(0)
            st["candidate"] = list(st["running"])
            st["pending"] = None
            self.log({"event": "reverted"})
        if st.get("lock") is not None and not pid_alive(st["lock"]):
            st["lock"] = None
            st["candidate"] = list(st["running"])

    def log(self, entry: dict) -> None:
        entry = {"pid": os.getpid(), "time": time.time(), **entry}
        with open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")


# ------------------------------------------------------------------------------------------
# configuration lines and their renderings

def tokens(line: str) -> list[str]:
    return shlex.split(line, posix=True)


def quote(word: str) -> str:
    if word and re.fullmatch(r"[A-Za-z0-9_./:\-+*@,=\[\]<>!$%^&~]+", word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def join(words: list[str]) -> str:
    return " ".join(quote(w) for w in words)


def norm(line: str) -> str:
    return join(tokens(line))


def set_words(line: str) -> list[str]:
    return tokens(line)[1:]


def apply_set(candidate: list[str], line: str) -> None:
    words = set_words(line)
    new = "set " + join(words)
    if len(words) >= 2 and words[-2] in SINGLE_VALUED:
        prefix = words[:-1]
        candidate[:] = [c for c in candidate if set_words(c)[:-1] != prefix]
    if new not in candidate:
        candidate.append(new)


def apply_delete(candidate: list[str], line: str) -> None:
    path = tokens(line)[1:]
    candidate[:] = [c for c in candidate if set_words(c)[: len(path)] != path]


def trie(lines: list[str]) -> dict:
    root: dict = {}
    for line in lines:
        node = root
        for w in set_words(line):
            node = node.setdefault(w, {})
    return root


def to_text(lines: list[str]) -> str:
    out: list[str] = []

    def walk(node: dict, depth: int) -> None:
        pad = "    " * depth
        for word, child in node.items():
            if word in LIST_WORDS and child and word != "interface":
                for entry, sub in child.items():  # `user bob { ... }`, as Junos shows list entries
                    if sub:
                        out.append(f"{pad}{quote(word)} {quote(entry)} {{")
                        walk(sub, depth + 1)
                        out.append(f"{pad}}}")
                    else:
                        out.append(f"{pad}{quote(word)} {quote(entry)};")
            elif not child:
                out.append(f"{pad}{quote(word)};")
            elif len(child) == 1 and not next(iter(child.values())):
                out.append(f"{pad}{quote(word)} {quote(next(iter(child)))};")
            else:
                out.append(f"{pad}{quote(word)} {{")
                walk(child, depth + 1)
                out.append(f"{pad}}}")

    walk(trie(lines), 0)
    return "\n".join(out)


def text_to_lines(text: str) -> list[str]:
    """Curly-brace configuration to `set` lines (naively: statements, blocks, comments)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = "\n".join(l for l in text.splitlines() if not l.strip().startswith("#"))
    lex = shlex.shlex(text, posix=True, punctuation_chars="{};")
    lex.whitespace_split = True
    lex.commenters = ""
    stack: list[list[str]] = []
    words: list[str] = []
    lines: list[str] = []
    for tok in lex:
        if tok == "{":
            stack.append([w for w in words if w not in ("replace:", "inactive:")])
            words = []
        elif tok == ";":
            if words:
                lines.append("set " + join([w for s in stack for w in s] + words))
            words = []
        elif tok == "}":
            if not stack:
                raise ValueError("syntax error: unbalanced }")
            stack.pop()
            words = []
        else:
            words.append(tok)
    if stack or words:
        raise ValueError("syntax error: unterminated statement")
    return lines


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_to_lines(config: ET.Element) -> tuple[list[str], list[str]]:
    """A <configuration> element to (set lines, delete lines): nested elements are path words,
    a leaf's text is the last word, <name> children name list entries."""
    sets: list[str] = []
    deletes: list[str] = []

    def walk(el: ET.Element, path: list[str], parent: str) -> None:
        tag = local(el.tag)
        kids = list(el)
        name_el = next((k for k in kids if local(k.tag) == "name"), None)
        if name_el is not None:
            entry = (name_el.text or "").strip()
            here = path + ([entry] if tag == "interface" and parent == "interfaces" else [tag, entry])
            kids = [k for k in kids if k is not name_el]
        else:
            here = path + [tag]
        if any(local(a) == "delete" or local(a) == "operation" and v == "delete"
               for a, v in el.attrib.items()):
            deletes.append("delete " + join(here))
            return
        if kids:
            for k in kids:
                walk(k, here, tag)
        elif name_el is None and (el.text or "").strip():
            sets.append("set " + join(here + [el.text.strip()]))
        else:
            sets.append("set " + join(here))

    for child in config:
        walk(child, [], local(config.tag))
    return sets, deletes


def _elements(node: dict, parent: str) -> list[tuple]:
    """The trie as (tag, text, children, is_list_entry) tuples, the shape of Junos XML."""
    out = []
    for word, child in node.items():
        if parent == "interfaces":
            out.append(("interface", None, [("name", word, [], False)] + _elements(child, "interface"), True))
        elif word in LIST_WORDS and child:
            for entry, sub in child.items():
                out.append((word, None, [("name", entry, [], False)] + _elements(sub, word), True))
        elif not child:
            out.append((word, None, [], False))
        elif len(child) == 1 and not next(iter(child.values())):
            out.append((word, next(iter(child)), [], False))
        else:
            out.append((word, None, _elements(child, word), False))
    return out


def _xml_name(word: str) -> str:
    return word if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", word) else "statement"


def to_xml(lines: list[str]) -> str:
    def render(el) -> str:
        tag, text, kids, _ = el
        t = _xml_name(tag)
        if kids:
            return f"<{t}>" + "".join(render(k) for k in kids) + f"</{t}>"
        if text is not None:
            return f"<{t}>{escape(text)}</{t}>"
        return f"<{t}/>"

    body = "".join(render(e) for e in _elements(trie(lines), ""))
    return f'<configuration xmlns="{XNM_NS}">{body}</configuration>'


def to_json(lines: list[str]) -> str:
    def obj(elements) -> dict:
        out: dict = {}
        for tag, text, kids, is_list in elements:
            value = obj(kids) if kids else (text if text is not None else [None])
            if is_list:
                out.setdefault(tag, []).append(value)
            elif tag in out:
                if not isinstance(out[tag], list) or out[tag] == [None]:
                    out[tag] = [out[tag]]
                out[tag].append(value)
            else:
                out[tag] = value
        return out

    return json.dumps({"configuration": obj(_elements(trie(lines), ""))}, indent=4)


def diff(old: list[str], new: list[str]) -> str:
    removed = [f"-  {l}" for l in old if l not in new]
    added = [f"+  {l}" for l in new if l not in old]
    if not removed and not added:
        return ""
    return "\n".join(["[edit]"] + removed + added) + "\n"


def rollback_config(st: dict, n: int) -> list[str] | None:
    if n == 0:
        return list(st["running"])
    if 1 <= n <= len(st["history"]):
        return list(st["history"][n - 1])
    return None


# ------------------------------------------------------------------------------------------
# replies

def rpc_error(message: str, tag: str = "operation-failed", type_: str = "application") -> str:
    return (f"<rpc-error><error-type>{type_}</error-type><error-tag>{tag}</error-tag>"
            f"<error-severity>error</error-severity><error-message>{escape(message)}</error-message>"
            "</rpc-error>")


def locked_error(holder) -> str:
    return rpc_error(f"configuration database locked by another session (pid {holder})",
                     tag="lock-denied", type_="protocol")


def check_error(candidate: list[str]) -> str | None:
    if any("commit-check-fails" in l for l in candidate):
        return rpc_error("commit check failed: commit-check-fails is not allowed", type_="protocol")
    return None


def commit_success() -> str:
    return "<commit-results><routing-engine><name>re0</name><commit-success/></routing-engine></commit-results>"


SHOW_INTERFACES_TERSE = """Interface               Admin Link Proto    Local                 Remote
ge-0/0/0                up    up
ge-0/0/0.0              up    up   inet     192.0.2.1/24
ge-0/0/1                up    down
lo0                     up    up
lo0.0                   up    up   inet     10.255.0.1          --> 0/0
fxp0                    up    up
fxp0.0                  up    up   inet     198.51.100.10/24"""

PFE_JNH_POOL = """SENT: Ukern command: show jnh 0 pool
GOT:
GOT:             Layer     Name         State     Used       Total    Used %
GOT:        -------------------------------------------------------------
GOT:       Application    EDMEM       Online     2893      2097152     0%
GOT:       Application    IDMEM       Online      301       262144     0%
GOT:       Application    Bulk        Online  8210323     33554432    24%
LOCAL: End of file"""


class Session:
    def __init__(self, args):
        self.args = args
        self.name = args.name
        self.dev = Device(args.state, args.name)
        self.out = sys.stdout.buffer
        self.buf = b""
        self.chunked = False

    # framing ---------------------------------------------------------------------------------
    def fill(self) -> None:
        data = os.read(0, 65536)
        if not data:
            raise Abort("eof")
        self.buf += data

    def read_eom(self) -> bytes:
        while True:
            i = self.buf.find(EOM)
            if i >= 0:
                msg, self.buf = self.buf[:i], self.buf[i + len(EOM):]
                return msg
            self.fill()

    CHUNK = re.compile(rb"\s*\n#(?:(#)|([1-9][0-9]{0,9}))\n")

    def read_chunked(self) -> bytes:
        parts = []
        while True:
            m = self.CHUNK.match(self.buf)
            if not m:
                if len(self.buf) > 64 and self.buf.strip():
                    raise Abort("bad chunk header")
                self.fill()
                continue
            if m.group(1):
                self.buf = self.buf[m.end():]
                return b"".join(parts)
            n, start = int(m.group(2)), m.end()
            while len(self.buf) < start + n:
                self.fill()
            parts.append(self.buf[start:start + n])
            self.buf = self.buf[start + n:]

    def read_message(self) -> bytes:
        while True:
            msg = self.read_chunked() if self.chunked else self.read_eom()
            if msg.strip():
                return msg

    def send(self, xml: str) -> None:
        data = xml.encode()
        if self.chunked:
            data = b"\n#%d\n" % len(data) + data + b"\n##\n"
        else:
            data = data + b"\n" + EOM
        try:
            self.out.write(data)
            self.out.flush()
        except (BrokenPipeError, OSError):
            raise Abort("closed")

    # session -----------------------------------------------------------------------------------
    def run(self) -> None:
        with self.dev.state() as st:
            if os.path.exists(os.path.join(self.dev.dir, REFUSE_FLAG)) and st["pending"] is not None:
                self.dev.log({"event": "refused"})
                return
        caps = [BASE_1_0]
        if self.args.framing != "1.0":
            caps.append(BASE_1_1)
        caps += ["urn:ietf:params:netconf:capability:candidate:1.0",
                 "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
                 "urn:ietf:params:netconf:capability:validate:1.0",
                 "http://xml.juniper.net/netconf/junos/1.0"]
        hello = (f'<?xml version="1.0" encoding="UTF-8"?><hello xmlns="{NC_NS}"><capabilities>'
                 + "".join(f"<capability>{c}</capability>" for c in caps)
                 + f"</capabilities><session-id>{os.getpid()}</session-id></hello>")
        try:
            self.send(hello)
            client = self.read_eom()
            try:
                client_caps = [(c.text or "").strip() for c in ET.fromstring(client).iter()
                               if local(c.tag) == "capability"]
            except ET.ParseError:
                client_caps = []
            self.chunked = BASE_1_1 in caps and BASE_1_1 in client_caps
            self.dev.log({"event": "hello", "framing": "1.1" if self.chunked else "1.0",
                          "client_capabilities": client_caps})
            self.loop()
        except Abort:
            pass
        finally:
            self.end()

    def end(self) -> None:
        with self.dev.state() as st:
            if st["lock"] == os.getpid():  # Junos: a lock released before commit drops the changes
                st["lock"] = None
                st["candidate"] = list(st["running"])
        self.dev.log({"event": "session-end"})

    def loop(self) -> None:
        mode = self.args.mode
        while True:
            raw = self.read_message()
            try:
                rpc = ET.fromstring(raw)
            except ET.ParseError as e:
                self.dev.log({"event": "bad-xml", "error": str(e)})
                self.send(f'<rpc-reply xmlns="{NC_NS}">{rpc_error("malformed XML", "malformed-message", "rpc")}</rpc-reply>')
                continue
            op = next(iter(rpc), None)
            self.dev.log({
                "rpc": local(op.tag) if op is not None else None,
                "message_id": rpc.get("message-id"),
                "attrs": {local(k): v for k, v in (op.attrib.items() if op is not None else [])},
                "children": [local(c.tag) for c in op] if op is not None else [],
                "text": "".join(op.itertext())[:2000] if op is not None else "",
            })
            if mode == "stall":
                continue  # read on, answer nothing, until the client goes away
            if mode == "close":
                raise Abort("close mode")
            body, close = self.handle(op)
            mid = rpc.get("message-id")
            attr = f" message-id={quoteattr(mid)}" if mid is not None else ""
            self.send(f'<rpc-reply xmlns="{NC_NS}" xmlns:junos="{JUNOS_NS}"{attr}>\n{body}\n</rpc-reply>')
            if close:
                raise Abort("close-session")

    # RPCs ----------------------------------------------------------------------------------------
    def handle(self, op: ET.Element | None) -> tuple[str, bool]:
        if op is None:
            return rpc_error("syntax error, expecting <command>", "operation-not-supported",
                             "protocol"), False
        name = local(op.tag)
        if name == "command":
            return self.command(op), False
        if name == "close-session":
            return "<ok/>", True
        with self.dev.state() as st:
            handler = getattr(self, "rpc_" + name.replace("-", "_"), None)
            if handler is None:
                return rpc_error("syntax error, expecting <command>", "operation-not-supported",
                                 "protocol"), False
            return handler(op, st), False

    def command(self, op: ET.Element) -> str:
        cmd = " ".join((op.text or "").split())
        fmt = op.get("format", "text")
        with self.dev.state():
            pass  # settle: a command is an RPC like any other
        if re.search(r"\bslow\b", cmd):
            time.sleep(30)
        if fmt == "xml" and cmd == "show version":
            return self.software_information()
        if fmt == "xml" and cmd == "show chassis hardware":
            return self.chassis_inventory()
        if cmd == "show version":
            text = f"Hostname: {self.name}\nModel: vmx\nJunos: {JUNOS_VERSION}"
        elif cmd == "show interfaces terse":
            text = SHOW_INTERFACES_TERSE
        elif cmd == 'request pfe execute target fpc0 command "show jnh 0 pool"':
            text = PFE_JNH_POOL
        else:
            text = f"ran: {cmd}"
        return f"<output>\n{escape(text)}\n</output>"

    def software_information(self) -> str:
        return (f"<software-information><host-name>{escape(self.name)}</host-name>"
                "<product-model>vmx</product-model><product-name>vmx</product-name>"
                f"<junos-version>{JUNOS_VERSION}</junos-version></software-information>")

    def chassis_inventory(self) -> str:
        return (f"<chassis-inventory><chassis><name>Chassis</name><serial-number>VM-{escape(self.name)}-0001"
                "</serial-number><description>VMX</description></chassis></chassis-inventory>")

    def rpc_get_software_information(self, op, st):
        return self.software_information()

    def rpc_get_chassis_inventory(self, op, st):
        return self.chassis_inventory()

    def held_by_other(self, st) -> int | None:
        holder = st.get("lock")
        return holder if holder is not None and holder != os.getpid() else None

    def rpc_lock(self, op, st):
        holder = self.held_by_other(st)
        if holder is not None:
            return locked_error(holder)
        st["lock"] = os.getpid()
        return "<ok/>"

    rpc_lock_configuration = rpc_lock

    def rpc_unlock(self, op, st):
        holder = self.held_by_other(st)
        if holder is not None:
            return locked_error(holder)
        if st["lock"] == os.getpid():
            st["lock"] = None
            st["candidate"] = list(st["running"])  # Junos drops what was not committed
        return "<ok/>"

    rpc_unlock_configuration = rpc_unlock

    def rpc_get_configuration(self, op, st):
        fmt = op.get("format", "xml")
        if op.get("compare") == "rollback":
            n = int(op.get("rollback", "0"))
            old = rollback_config(st, n)
            if old is None:
                return rpc_error(f"rollback {n} is not available")
            return ("<configuration-information><configuration-output>"
                    f"{escape(diff(old, st['candidate']))}</configuration-output></configuration-information>")
        lines = st["running"] if op.get("database") == "committed" else st["candidate"]
        filt = next((c for c in op if local(c.tag) == "configuration"), None)
        if filt is not None and len(filt):
            prefixes = [set_words(l) for l in xml_to_lines(filt)[0]]
            lines = [l for l in lines if any(set_words(l)[: len(p)] == p for p in prefixes)]
        if fmt == "set":
            return f'<configuration-set xmlns="{XNM_NS}">\n{escape(chr(10).join(lines))}\n</configuration-set>'
        if fmt == "text":
            return f'<configuration-text xmlns="{XNM_NS}">\n{escape(to_text(lines))}\n</configuration-text>'
        if fmt == "json":
            return escape(to_json(lines))
        return to_xml(lines)

    def rpc_load_configuration(self, op, st):
        holder = self.held_by_other(st)
        if holder is not None:
            return locked_error(holder)
        if op.get("rollback") is not None:
            n = int(op.get("rollback"))
            cfg = rollback_config(st, n)
            if cfg is None:
                return rpc_error(f"rollback {n} is not available")
            st["candidate"] = cfg
            return "<load-configuration-results><load-success/></load-configuration-results>"
        action = op.get("action", "merge")
        kids = {local(c.tag): c for c in op}
        try:
            if "configuration-set" in kids:
                raw = [l.strip() for l in (kids["configuration-set"].text or "").splitlines()]
                raw = [l for l in raw if l and not l.startswith("#")]
            elif "configuration-text" in kids:
                raw = text_to_lines(kids["configuration-text"].text or "")
            elif "configuration" in kids:
                sets, deletes = xml_to_lines(kids["configuration"])
                raw = deletes + sets
            else:
                return rpc_error("syntax error: nothing to load (expected configuration-set, "
                                 "configuration-text or configuration)")
            for l in raw:
                verb = tokens(l)[0]
                if verb not in ("set", "delete"):
                    raise ValueError(f"syntax error: {verb}")
        except ValueError as e:
            return self.load_error(str(e))
        if any("invalid-statement" in l for l in raw):
            return self.load_error("syntax error: invalid-statement")
        cand = [] if action == "override" else list(st["candidate"])
        for l in raw:
            (apply_set if tokens(l)[0] == "set" else apply_delete)(cand, l)
        st["candidate"] = cand
        return "<load-configuration-results><load-success/></load-configuration-results>"

    @staticmethod
    def load_error(message: str) -> str:
        # As Juniper documents it: the error inside the results, with its type and tag.
        return (f"<load-configuration-results>{rpc_error(message, type_='protocol')}"
                "<load-error-count>1</load-error-count></load-configuration-results>")

    def rpc_discard_changes(self, op, st):
        holder = self.held_by_other(st)
        if holder is not None:
            return locked_error(holder)
        st["candidate"] = list(st["running"])
        return "<ok/>"

    def rpc_validate(self, op, st):
        err = check_error(st["candidate"])
        return err if err else "<ok/>"

    def rpc_commit_configuration(self, op, st, minutes: bool = True):
        kids = {local(c.tag): c for c in op}
        err = check_error(st["candidate"])
        if "check" in kids:
            if err:
                return f"<commit-results>{err}</commit-results>"
            return ("<commit-results><routing-engine><name>re0</name><commit-check-success/>"
                    "</routing-engine></commit-results>")
        holder = self.held_by_other(st)
        if holder is not None:
            return locked_error(holder)
        if err:
            return f"<commit-results>{err}</commit-results>"
        if "confirmed" in kids:
            unit = 60.0 if minutes else 1.0
            default = 10.0 if minutes else 600.0
            text = (kids["confirm-timeout"].text or "").strip() if "confirm-timeout" in kids else ""
            try:
                timeout = float(text) if text else default
            except ValueError:
                return rpc_error(f"invalid confirm-timeout: {text}", "invalid-value")
            if not (st["pending"] is not None and st["candidate"] == st["running"]):
                st["history"].insert(0, list(st["running"]))
                del st["history"][HISTORY_MAX:]
                st["running"] = list(st["candidate"])
            st["pending"] = time.time() + timeout * unit
            return commit_success()
        st["pending"] = None  # any commit confirms a pending confirmed commit, as on Junos
        if st["candidate"] != st["running"]:
            st["history"].insert(0, list(st["running"]))
            del st["history"][HISTORY_MAX:]
            st["running"] = list(st["candidate"])
        return commit_success()

    def rpc_commit(self, op, st):
        # RFC 6241 <commit>: <confirm-timeout> in seconds. Junos answers it with <ok/>.
        reply = self.rpc_commit_configuration(op, st, minutes=False)
        return "<ok/>" if reply == commit_success() else reply


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--state", required=True)
    p.add_argument("--mode", choices=["normal", "stall", "close"], default="normal")
    p.add_argument("--framing", choices=["1.0", "1.1"], default="1.1")
    p.add_argument("--name", default="vmx1")
    args = p.parse_args()
    Session(args).run()


if __name__ == "__main__":
    main()
