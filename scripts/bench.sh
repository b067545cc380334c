#!/usr/bin/env bash
# Builds the release binaries and prints: mistmcp start-up time, peak RSS and tools/list sizes
# (stdio); mistcli's run time; the discovery benchmark (recall of mist_search_operations on our
# questions and on a set kept apart, bytes read per question); the HTTP server under 1, 50, 200 and
# 400 sessions (calls/s, latency, CPU per call, memory per session and after they closed); what
# OAuth adds per call (a real IdP's tokens, A/B interleaved); the edge module in workerd (size,
# cold start with and without OAuth, wall and CPU time per request).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked --bin mistmcp --bin mistcli --example http_load >&2
python3 scripts/bench.py target/release/mistmcp
cargo run --release --locked -q -p mistcore --example discovery_bench
target/release/examples/http_load levels target/release/mistmcp
.venv/bin/python scripts/bench_oauth.py target/release/mistmcp
scripts/build-wasm.sh
.venv/bin/python scripts/bench_edge.py
