#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (scripts/setup.sh),
# then formatting, lints, Rust tests, the wasm32 build of mistcore and of the edge module, and
# the integration tests that drive the binaries (and the edge module in workerd) with real
# MCP clients against Prism.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*" >&2; }

step setup
scripts/setup.sh
step "cargo fmt --check"
cargo fmt --all -- --check
step "no import circles between modules"
python3 scripts/check-imports.py
step "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
step "cargo test"
cargo test --locked --workspace
step "mistcore and the edge crate for wasm32-unknown-unknown, linted (native clippy never sees the edge crate)"
cargo clippy --locked -p mistcore -p mistmcp-wasm --target wasm32-unknown-unknown -- -D warnings
step "the edge module (wasm32, wasm-bindgen)"
scripts/build-wasm.sh
step "integration tests (tests/)"
cargo build --locked --bin mistmcp
.venv/bin/python -m pytest -q tests "$@"
