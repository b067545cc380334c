#!/usr/bin/env python3
"""What MCP authorization (OAuth 2.1, `--oauth-config`) costs the HTTP server per call: the same
load (getSelf against http_load's in-process Mist mock, each run a fresh release server) on

  A: a loopback server without auth, the Mist token in X-Mist-Token (as scripts/bench.sh);
  B: a server with --oauth-config, every request carrying `Authorization: Bearer <JWT>`, a real
     RS256 access token of oidc-provider (tests/oauth_idp.mjs) that the server verifies on every
     request (its keys fetched once at start and cached), mapped by a rule to Mist credentials.

It prints the median and p99 latency per call and the server's CPU per call at 1 and 50 sessions
for both, and B - A. Runs are interleaved (A, B, A, B, ...: the machine is shared and noisy) and
figures are medians over the rounds; nothing is asserted about timings. Then the verification
alone: the server's own check of that token (`http_load verify`), without HTTP.

Both use one Mist token for every session (HTTP_LOAD_MIST_TOKEN), the one the rule binds, so
that the runs differ by the access token only (an OAuth rule gives every session of a user the
same Mist credentials; scripts/bench.sh uses one per session), and a --rate-limit no run reaches
(see RATE_LIMIT).

Builds nothing: run first (about 8 minutes the first time)

    cargo build --release --locked --bin mistmcp --example http_load

then

    .venv/bin/python scripts/bench_oauth.py [--rounds 10] [target/release/mistmcp [target/release/examples/http_load]]

(the venv of scripts/setup.sh: tests/oauth_support.py needs its packages, the IdP tests/node_modules).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from oauth_support import rsa_jwk, start_idp  # noqa: E402

# The resource tokens are bound to: a server behind a TLS proxy is named so (it need not be the
# address the server listens on, which http_load picks).
RESOURCE = "https://mistmcp.bench.example/mcp"
MIST_TOKEN = "bench-mist-token"
# The server keeps to Mist's budget of 5000 calls per hour per Mist token, shared by every session
# using it: 50 sessions of one token spend it in the first seconds of a run, and the rest would
# wait and fail. A budget no run reaches, for both, keeps its bookkeeping as in the default.
RATE_LIMIT = "--rate-limit 1000000"
LEVELS = ["managed:1", "managed:50"]


def write_config(directory: Path, issuer: str) -> Path:
    path = directory / "oauth.toml"
    path.write_text(f'''
resource = "{RESOURCE}"

[[issuers]]
issuer = "{issuer}"

[[rules]]
group = "Bench"
mist_token_env = "BENCH_MIST_TOKEN"
mist_host = "api.mist.com"
writes = true
''')
    return path


def run_levels(http_load: str, binary: str, env: dict[str, str]) -> dict[int, dict[str, float]]:
    """One `http_load levels` run of LEVELS: {sessions: {p50, p99, cpu, calls_s, errors}}."""
    done = subprocess.run([http_load, "levels", binary, *LEVELS], capture_output=True, text=True,
                          env={**os.environ, **env, "HTTP_LOAD_CALLS_ONLY": "1"}, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"http_load exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    rows = {}
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) > 15 and fields[0] == "managed" and fields[1].isdigit():
            # mode, sessions, calls, calls/s, p50 ms, p99 ms, cpu ms/call, 8 memory columns, errors
            rows[int(fields[1])] = {"calls_s": float(fields[3]), "p50": float(fields[4]), "p99": float(fields[5]),
                                    "cpu": float(fields[6]), "errors": int(fields[15])}
    if len(rows) != len(LEVELS):
        raise RuntimeError(f"unexpected http_load output:\n{done.stdout}\n{done.stderr}")
    return rows


def spread(values: list[float], digits: int) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", nargs="?", default=str(ROOT / "target" / "release" / "mistmcp"))
    parser.add_argument("http_load", nargs="?", default=str(ROOT / "target" / "release" / "examples" / "http_load"))
    parser.add_argument("--rounds", type=int, default=10, help="A/B pairs of runs (default 10, about 5 s each)")
    args = parser.parse_args()
    for path in (args.binary, args.http_load):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is missing: run `cargo build --release --locked --bin mistmcp --example http_load` first")

    with tempfile.TemporaryDirectory(prefix="bench-oauth-") as tmp:
        tmp = Path(tmp)
        key, _ = rsa_jwk("bench")
        idp = start_idp(tmp, RESOURCE, {"bench": {"groups": ["Bench"], "scopes": ["mist:read", "mist:write"]}},
                        {"keys": [key]}, access_token_ttl=3600)
        try:
            config = write_config(tmp, idp.issuer)
            token = idp.token_for("bench")["access_token"]
            variants = {
                "A": {"HTTP_LOAD_MIST_TOKEN": MIST_TOKEN, "HTTP_LOAD_SERVER_ARGS": RATE_LIMIT},
                "B": {"HTTP_LOAD_MIST_TOKEN": MIST_TOKEN, "HTTP_LOAD_BEARER": token,
                      "HTTP_LOAD_SERVER_ARGS": f"{RATE_LIMIT} --oauth-config {config}", "BENCH_MIST_TOKEN": MIST_TOKEN},
            }
            started = datetime.datetime.now(datetime.timezone.utc)
            clock = time.monotonic()
            load_before = os.getloadavg()
            results: dict[str, list[dict[int, dict[str, float]]]] = {"A": [], "B": []}
            for _ in range(args.rounds):
                for name, env in variants.items():
                    results[name].append(run_levels(args.http_load, args.binary, env))
            verify = subprocess.run([args.http_load, "verify", str(config), "20000"], capture_output=True, text=True,
                                    env={**os.environ, "HTTP_LOAD_BEARER": token}, timeout=600)
            jwks = idp.stats()["jwks_requests"]
            took = time.monotonic() - clock
        finally:
            idp.stop()

    print(f"bench_oauth {started:%Y-%m-%d %H:%M} UTC on {os.uname().nodename}: {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after; {took:.0f} s")
    print(f"mistmcp {args.binary}; getSelf against http_load's in-process Mist mock, each run a fresh server, "
          f"{args.rounds} rounds of A then B")
    print("A: loopback, no auth, X-Mist-Token; B: --oauth-config, Authorization: Bearer <RS256 JWT of oidc-provider> "
          f"checked on every request, its signature once (a verified token is remembered; keys cached: the IdP served them {jwks} times, once per server and once for the check alone)")
    print("figures: median over the rounds (min-max); B-A: difference of the medians, [median of the per-round differences]")
    print(f"{'sessions':>8} {'run':>4} {'calls/s':>18} {'p50 ms':>18} {'p99 ms':>18} {'server CPU ms/call':>22} {'errors':>6}")
    for sessions in sorted(results["A"][0]):
        per = {name: [r[sessions] for r in runs] for name, runs in results.items()}
        for name in ("A", "B"):
            rows = per[name]
            print(f"{sessions:>8} {name:>4} {spread([r['calls_s'] for r in rows], 0):>18} "
                  f"{spread([r['p50'] for r in rows], 2):>18} {spread([r['p99'] for r in rows], 2):>18} "
                  f"{spread([r['cpu'] for r in rows], 3):>22} {sum(r['errors'] for r in rows):>6}")

        def diff(field: str, digits: int, scale: float = 1.0, unit: str = "") -> str:
            a = [r[field] for r in per["A"]]
            b = [r[field] for r in per["B"]]
            medians = (statistics.median(b) - statistics.median(a)) * scale
            paired = statistics.median(y - x for x, y in zip(a, b)) * scale
            return f"{medians:+.{digits}f}{unit} [{paired:+.{digits}f}]"

        print(f"{sessions:>8} {'B-A':>4} {diff('calls_s', 0):>18} {diff('p50', 0, 1000, ' µs'):>18} "
              f"{diff('p99', 0, 1000, ' µs'):>18} {diff('cpu', 1, 1000, ' µs'):>22}")
    if any(r[n]["errors"] for runs in results.values() for r in runs for n in r):
        print("some calls failed (errors column): the runs with errors measure the failures too")
    if verify.returncode == 0:
        print(f"the check alone (after the first, from the cache of verified tokens): {verify.stdout.strip()}")
    else:
        print(f"verification alone failed (exit {verify.returncode}): {verify.stdout.strip()} {verify.stderr.strip()}")


if __name__ == "__main__":
    main()
