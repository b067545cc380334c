#!/usr/bin/env bash
# Builds the release binary and prints start-up time, peak RSS and tools/list sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin mistmcp >&2
exec python3 scripts/bench.py target/release/mistmcp
