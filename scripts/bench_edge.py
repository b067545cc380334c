#!/usr/bin/env python3
"""Prints the figures of the edge module in real workerd: module size raw/gzip; cold start (workerd
start to the first MCP answer, median of 10) with where it goes, and with OAuth on; and per request,
the wall time and the CPU time workerd spent (its /proc utime+stime over 500 requests), for a
tools/list and for tool calls, and for a tools/list with an OAuth access token. Run it with scripts/bench.sh (which builds target/edge/ first), with the project's .venv
python.

The cold start is measured in the self-hosted deployment the README recommends, the config
encoded beforehand (`workerd compile --config-only`, then `serve --binary`), and beside it with the
text config (`serve config.capnp`). Its breakdown (VARIANTS) runs workerd 10 times each,
interleaved, with the encoded config: a trivial JS worker and no module in its config (workerd's
own start); the module as wasm, imported (+ V8 compiling it; workerd compiles every module its
config names, at start); instantiated as worker.mjs does (+ instantiation and the glue); the real
worker (+ the first MCP request: the module's work, seen on a sessionless tools/list, and the
session's Durable Object, seen on an initialize); then the real worker from its text config (+
workerd parsing the module's bytes out of a text file); and the encoded config with the Durable
Objects' storage in memory instead of on disk (no SQLite files: sessions are then lost when
workerd stops, as on the native server); and that with OAuth on (MISTMCP_OAUTH_CONFIG, the IdP of
the tests, tests/oauth_idp.mjs, on loopback): a first request without a token (the configuration
read, a 401), and one with an access token, which also reads the issuer's metadata and keys with
fetch and verifies the token (RS256, with the host's WebCrypto).
With `--against DIR` (another build's target/edge, e.g. the main branch's, copied aside), it
prints instead the comparison of the two builds, interleaved run by run: the module sizes, the
cold start medians with OAuth off and on (a first request with a token), and the per-request
workerd CPU with OAuth on, for the same token each time (the verified-token cache) and for a new
token each time (a signature verified each time), with the date.
Each run is timed from the process start
to the port reported on workerd's control descriptor (listening) and to the first answer; the
copy of the files into a fresh directory and the encoding of the config (a deployment's build
step) are timed apart and are not part of the cold start. The cold start is the median; the
breakdown takes the steps between the fastest runs of each variant (the noise of a shared machine
only adds time, and medians of neighbouring variants can cross)."""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_edge import EDGE, WORKERD, edge_dir, workerd  # noqa: E402  (the tests' way to run workerd)
from test_edge_oauth import capnp_text, oauth_toml  # noqa: E402

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
SEARCH = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
          "params": {"name": "mist_search_operations", "arguments": {"query": "site device events"}}}
GET_SELF = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "getSelf"}}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "X-Mist-Token": "bench"}
TICKS = os.sysconf("SC_CLK_TCK")
N = 500


class Mist(BaseHTTPRequestHandler):
    """A Mist API that answers at once, so that the figures are the module's own."""

    def do_GET(self):
        body = json.dumps({"email": "bench@example.com", "privileges": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def post(conn: http.client.HTTPConnection, message: dict, session: str | None = None,
         headers: dict | None = None, expect: int = 200) -> bytes:
    headers = dict(headers or HEADERS, **({"Mcp-Session-Id": session} if session else {}))
    conn.request("POST", "/mcp?cloud=api.mist.com", body=json.dumps(message), headers=headers)
    answer = conn.getresponse()
    body = answer.read()
    if answer.status != expect:
        raise RuntimeError(f"HTTP {answer.status}: {body[:200]!r}")
    return body


# Entries in place of worker.mjs for the breakdown (the config also names the Durable Object class).
TRIVIAL = 'export class McpSession {}\nexport default { fetch() { return new Response("ok"); } };\n'
COMPILED = ('import wasmModule from "./mistmcp_wasm_bg.wasm";\nexport class McpSession {}\n'
            'export default { fetch() { return new Response(String(wasmModule instanceof WebAssembly.Module)); } };\n')
INSTANTIATED = ('import { initSync } from "./mistmcp_wasm.js";\nimport wasmModule from "./mistmcp_wasm_bg.wasm";\n'
                'initSync({ module: wasmModule });\nexport class McpSession {}\n'
                'export default { fetch() { return new Response("ok"); } };\n')
SESSIONLESS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def without_module(config: str) -> str:
    """The config without the module and its glue (workerd compiles every module a config names)."""
    return "\n".join(line for line in config.splitlines() if "mistmcp_wasm" not in line) + "\n"


DISK_SERVICE = '(name = "sessions-disk", disk = (path = "'
DISK_STORAGE = 'durableObjectStorage = (localDisk = "sessions-disk"),'


def sessions_in_memory(config: str) -> str:
    """The config with the Durable Objects' storage in memory instead of on disk."""
    if DISK_STORAGE not in config:
        raise RuntimeError("config.capnp.in no longer keeps sessions on disk as the bench expects")
    kept = "\n".join(line for line in config.splitlines() if DISK_SERVICE not in line) + "\n"
    return kept.replace(DISK_STORAGE, "durableObjectStorage = (inMemory = void),")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way to start workerd for the breakdown."""

    label: str
    entry: str | None = None  # worker.mjs replaced by this
    config: Callable[[str], str] | None = None  # an edit of the filled config
    message: dict | None = None  # the first request: a GET without, an MCP POST with
    binary: bool = False  # serve the config encoded by `workerd compile --config-only`
    oauth: bool = False  # MISTMCP_OAUTH_CONFIG set
    token: bool = True  # with OAuth on, the request carries an access token (else it is a 401)


@dataclasses.dataclass
class OAuthSetup:
    """The IdP of the tests and what a worker with OAuth on needs: its config's placeholders, and
    the headers of a request with an access token (one token for every run: its audience is
    the configured resource, whatever port workerd listens on)."""

    settings: dict[str, str]
    headers: dict[str, str]
    anonymous: dict[str, str]  # the same without the token
    stop: Callable[[], None]
    fresh: Callable[[], str]  # a new access token (signed with the IdP's key), each call


def oauth_setup() -> OAuthSetup:
    import tempfile

    from oauth_support import forge, rsa_jwk, start_idp, token_claims

    resource = "http://127.0.0.1:8787/mcp"
    key, _ = rsa_jwk("bench")
    users = {"bench": {"groups": ["Bench"], "scopes": ["mist:read", "mist:write"]}}
    idp = start_idp(Path(tempfile.mkdtemp()), resource, users, {"keys": [key]}, access_token_ttl=3600)
    token = idp.token_for("bench")["access_token"]
    rules = '[[rules]]\ngroup = "Bench"\nmist_token_env = "BENCH_MIST_TOKEN"\nmist_host = "api.mist.com"\n'
    settings = {"@OAUTH_CONFIG@": capnp_text(oauth_toml(resource, idp.issuer, rules=rules)),
                "@EXTRA_BINDINGS@": '(name = "BENCH_MIST_TOKEN", text = "bench"),'}
    anonymous = {k: v for k, v in HEADERS.items() if k != "X-Mist-Token"}

    def fresh() -> str:
        return forge(key, token_claims(idp, "bench", scope="mist:read mist:write", ttl=3600))

    return OAuthSetup(settings, {**anonymous, "Authorization": f"Bearer {token}"}, anonymous, idp.stop, fresh)


VARIANTS = [
    Variant("workerd alone (trivial JS worker, no wasm)", TRIVIAL, without_module, binary=True),
    Variant("+ the module as wasm (V8 compiles it)", COMPILED, binary=True),
    Variant("+ instantiated (initSync, as worker.mjs)", INSTANTIATED, binary=True),
    Variant("real worker, sessionless tools/list", message=SESSIONLESS_LIST, binary=True),
    Variant("real worker, initialize (THE COLD START)", message=INIT, binary=True),
    Variant("the same from the text config", message=INIT),
    Variant("encoded, sessions in memory (not on disk)", message=INIT, config=sessions_in_memory, binary=True),
    Variant("OAuth on, in memory: initialize, no token (401)", message=INIT, config=sessions_in_memory, binary=True,
            oauth=True, token=False),
    Variant("OAuth on, in memory: initialize with a token", message=INIT, config=sessions_in_memory, binary=True,
            oauth=True),
]


def first_answer(port: int, message: dict | None, headers: dict | None = None, expect: int = 200) -> None:
    """The first answer of a fresh workerd: a GET of the trivial entries, else an MCP POST (with
    `headers`, answered `expect`)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if message is None:
        conn.request("GET", "/")
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"HTTP {answer.status}")
    else:
        post(conn, message, headers=headers, expect=expect)
    conn.close()


def cold_start(upstream: str, variant: Variant, oauth: OAuthSetup,
               source: Path = EDGE) -> tuple[float, float, float]:
    """One cold start: (preparing the directory, process start to listening, process start to
    the first answer), in ms. Encoding a binary config is a deployment's build step: it is timed
    with the preparation. `source`: the build's directory."""
    started = time.perf_counter()
    work = edge_dir(upstream, source, **(oauth.settings if variant.oauth else {}))
    if variant.entry is not None:
        (work / "worker.mjs").write_text(variant.entry)
    if variant.config is not None:
        (work / "config.capnp").write_text(variant.config((work / "config.capnp").read_text()))
    if variant.binary:
        encoded = subprocess.run([str(WORKERD), "compile", "config.capnp", "--config-only"], cwd=work,
                                 capture_output=True, check=True).stdout
        (work / "config.bin").write_bytes(encoded)
    prepared = time.perf_counter()
    with workerd(work, binary=variant.binary) as (_, port):
        listening = time.perf_counter()
        if not variant.oauth:
            first_answer(port, variant.message)
        elif variant.token:
            first_answer(port, variant.message, oauth.headers)
        else:
            first_answer(port, variant.message, oauth.anonymous, expect=401)
        answered = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)
    return ((prepared - started) * 1000, (listening - prepared) * 1000, (answered - prepared) * 1000)


def breakdown(upstream: str, oauth: OAuthSetup, runs: int = 10) -> None:
    samples: dict[str, list[tuple[float, float, float]]] = {v.label: [] for v in VARIANTS}
    for _ in range(runs):  # interleaved, so that noise of the shared machine spreads evenly
        for variant in VARIANTS:
            samples[variant.label].append(cold_start(upstream, variant, oauth))
    listen = {label: statistics.median(s[1] for s in runs_) for label, runs_ in samples.items()}
    answer = {label: statistics.median(s[2] for s in runs_) for label, runs_ in samples.items()}
    best = {label: min(s[2] for s in runs_) for label, runs_ in samples.items()}
    copy = statistics.median(s[0] for v in VARIANTS if not v.binary for s in samples[v.label])
    print(f"cold start, workerd process start to the first answer ({runs} interleaved runs each; config encoded "
          f"beforehand unless said; copying the files first: {copy:.1f} ms, not counted):")
    print(f"  {'':<44} {'listening':>10} {'answered':>10} {'fastest':>10}")
    for variant in VARIANTS:
        label = variant.label
        print(f"  {label:<44} {listen[label]:>7.1f} ms {answer[label]:>7.1f} ms {best[label]:>7.1f} ms")
    # Noise of a shared machine only adds time: the steps between the fastest runs are the costs.
    alone, wasm, instantiated, sessionless, init, text, in_memory, refused, with_oauth = (best[v.label] for v in VARIANTS)
    print(f"  where it goes (steps between the fastest runs): workerd itself {alone:.1f} ms; V8 compiling the "
          f"module {wasm - alone:+.1f} ms; instantiating it {instantiated - wasm:+.1f} ms; the first request's "
          f"module work {sessionless - instantiated:+.1f} ms; the session's Durable Object {init - sessionless:+.1f} ms; "
          f"(text config only: workerd parsing the module's bytes out of it {text - init:+.1f} ms)")
    cold, text_label = VARIANTS[4].label, VARIANTS[5].label
    print(f"  cold start (initialize), config encoded beforehand (workerd compile --config-only, serve --binary): "
          f"median {answer[cold]:.1f} ms (fastest {init:.1f}); budget 50 ms; from the text config: "
          f"median {answer[text_label]:.1f} ms (fastest {text:.1f}); encoded with the sessions in memory: "
          f"median {answer[VARIANTS[6].label]:.1f} ms (fastest {in_memory:.1f})")
    print(f"  cold start with OAuth on (MISTMCP_OAUTH_CONFIG; the first request reads the IdP's metadata and JWKS "
          f"with fetch and verifies an RS256 access token), config encoded, sessions in memory: median "
          f"{answer[VARIANTS[8].label]:.1f} ms (fastest {with_oauth:.1f}), {with_oauth - in_memory:+.1f} ms over the same "
          f"initialize without OAuth (fastest runs; the IdP is on loopback: a remote one adds its round trips); "
          f"a first request without a token (the configuration read, a 401): median {answer[VARIANTS[7].label]:.1f} ms "
          f"(fastest {refused:.1f})")


def per_request(conn, pid: int, message: dict, session: str | None,
                headers: dict | None = None) -> tuple[float, float]:
    walls = []
    cpu_before = cpu_seconds(pid)
    for _ in range(N):
        t = time.perf_counter()
        post(conn, message, session, headers)
        walls.append((time.perf_counter() - t) * 1000)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / N
    return statistics.median(walls), cpu_ms


COMPARED = [
    Variant("cold start, OAuth off (initialize)", message=INIT, binary=True),
    Variant("cold start, OAuth off, in memory", message=INIT, config=sessions_in_memory, binary=True),
    Variant("cold start, OAuth on, first request with a token", message=INIT, config=sessions_in_memory,
            binary=True, oauth=True),
]


def sizes(source: Path) -> str:
    wasm = (source / "mistmcp_wasm_bg.wasm").read_bytes()
    return f"{len(wasm):,} bytes raw, {len(gzip.compress(wasm, 9)):,} bytes gzip"


def compare(baseline: Path, runs: int = 10) -> None:
    """This build against `baseline`, interleaved: cold starts, then per-request CPU with OAuth."""
    builds = {"this build": EDGE, "baseline": baseline}
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; "
          f"this build {EDGE}, baseline {baseline}")
    for label, source in builds.items():
        print(f"  {label:<11} module: {sizes(source)}")
    mist = ThreadingHTTPServer(("127.0.0.1", 0), Mist)
    threading.Thread(target=mist.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{mist.server_address[1]}"
    oauth = oauth_setup()
    try:
        samples = {(b, v.label): [] for b in builds for v in COMPARED}
        for run in range(runs):
            order = list(builds.items()) if run % 2 == 0 else list(builds.items())[::-1]
            for variant in COMPARED:
                for label, source in order:
                    samples[(label, variant.label)].append(cold_start(upstream, variant, oauth, source)[2])
        print(f"cold start, process start to the first answer, median of {runs} interleaved runs (fastest):")
        for variant in COMPARED:
            cells = [f"{label} {statistics.median(samples[(label, variant.label)]):6.1f} ms "
                     f"({min(samples[(label, variant.label)]):.1f})" for label in builds]
            print(f"  {variant.label:<50} " + "   ".join(cells))
        print(f"per request with OAuth on, tools/list without a session ({N} each, two rounds, builds alternated):")
        cpu: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(2):
            for label, source in builds.items():
                tokens = [oauth.fresh() for _ in range(N)]  # signed before: RSA signing takes a while
                work = edge_dir(upstream, source, **oauth.settings)
                with workerd(work) as (proc, port):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    post(conn, LIST, None, oauth.headers)  # the metadata and keys, fetched once
                    cpu.setdefault((label, "same token"), []).append(
                        per_request(conn, proc.pid, LIST, None, oauth.headers))
                    cpu.setdefault((label, "new token"), []).append(
                        per_tokens(conn, proc.pid, tokens, oauth.anonymous))
                shutil.rmtree(work, ignore_errors=True)
        for kind in ["same token", "new token"]:
            cells = []
            for label in builds:
                walls = [w for w, _ in cpu[(label, kind)]]
                cpus = [c for _, c in cpu[(label, kind)]]
                cells.append(f"{label} wall p50 {statistics.median(walls):5.2f} ms, CPU {statistics.mean(cpus):5.2f} ms")
            print(f"  {kind + (' (cached after the first)' if kind == 'same token' else ' (verified each time)'):<38} "
                  + "   ".join(cells))
    finally:
        oauth.stop()
        mist.shutdown()


def per_tokens(conn, pid: int, tokens: list[str], anonymous: dict) -> tuple[float, float]:
    """A tools/list per token, each token new to the server: (wall p50, workerd CPU per request)."""
    walls = []
    cpu_before = cpu_seconds(pid)
    for token in tokens:
        t = time.perf_counter()
        post(conn, LIST, None, {**anonymous, "Authorization": f"Bearer {token}"})
        walls.append((time.perf_counter() - t) * 1000)
    return statistics.median(walls), (cpu_seconds(pid) - cpu_before) * 1000 / len(tokens)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--against":
        compare(Path(sys.argv[2]).resolve())
        return
    wasm = (EDGE / "mistmcp_wasm_bg.wasm").read_bytes()
    print(f"module: {len(wasm):,} bytes raw, {len(gzip.compress(wasm, 9)):,} bytes gzip (budget 1.5 MB gzip)")
    mist = ThreadingHTTPServer(("127.0.0.1", 0), Mist)
    threading.Thread(target=mist.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{mist.server_address[1]}"
    oauth = oauth_setup()
    try:
        breakdown(upstream, oauth)
        with workerd(edge_dir(upstream)) as (proc, port):
            per_session(port, proc.pid)
        with workerd(edge_dir(upstream, **oauth.settings)) as (proc, port):
            per_oauth_request(port, proc.pid, oauth)
    finally:
        oauth.stop()
        mist.shutdown()


def per_session(port: int, pid: int) -> None:
    """The per-request figures, in one session of a running workerd."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/mcp?cloud=api.mist.com", body=json.dumps(INIT), headers=HEADERS)
    first = conn.getresponse()
    first.read()
    session = first.getheader("mcp-session-id")
    print(f"{'request (' + str(N) + ' each, one session)':<44} {'wall p50':>9} {'workerd CPU':>12}")
    for label, message in [("tools/list (managed, 5 tools)", LIST),
                           ("tools/call mist_search_operations", SEARCH),
                           ("tools/call getSelf (local Mist mock)", GET_SELF)]:
        wall, cpu = per_request(conn, pid, message, session)
        print(f"{label:<44} {wall:>6.2f} ms {cpu:>9.2f} ms")
    wall, cpu = per_request(conn, pid, LIST, None)
    print(f"{'tools/list without a session':<44} {wall:>6.2f} ms {cpu:>9.2f} ms")
    print("(workerd CPU includes its HTTP handling and, with a session, the Durable Object's storage)")


def per_oauth_request(port: int, pid: int, oauth: OAuthSetup) -> None:
    """A tools/list without a session, each request's access token verified (the keys known)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    post(conn, LIST, None, oauth.headers)  # the metadata and keys, fetched once
    wall, cpu = per_request(conn, pid, LIST, None, oauth.headers)
    print(f"{'tools/list without a session, OAuth on':<44} {wall:>6.2f} ms {cpu:>9.2f} ms")


if __name__ == "__main__":
    main()
