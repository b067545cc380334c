#!/usr/bin/env bash
# Soak of the HTTP server: 20 sessions x 1000 getSelf calls with 10 % injected faults (503, 429,
# HTML 500, truncated JSON, slow answers) and 10 % answers over the server's upstream cap (read as
# a stream and refused), while 300 silent sockets are held open against a server limited to 256
# file descriptors. Fails unless every request got exactly one answer and the server's RSS at the
# end is within 10 % of its RSS after warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin mistmcp --example http_load >&2
target/release/examples/http_load "${1:-20}" "${2:-1000}" target/release/mistmcp "${3:-10}" "${4:-300}" "${5:-10}"
