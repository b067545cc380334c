#!/usr/bin/env bash
# Builds the release binaries and prints start-up time, peak RSS, tools/list sizes and mistcli's run time.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin mistmcp --bin mistcli >&2
exec python3 scripts/bench.py target/release/mistmcp
