#!/usr/bin/env bash
# Rebuilds the example contracts' .wasm files from their sources. The built
# files are committed, so tests never need these toolchains.
# Needs: clang and lld (Debian packages; scripts/setup.sh installs them), and
# `rustup target add wasm32-unknown-unknown` for the Rust contract.
set -euo pipefail
cd "$(dirname "$0")"

echo "coin (C)"
clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--strip-all \
  -o coin/coin.wasm coin/coin.c

echo "rust-counter (Rust no_std)"
(cd rust-counter && CARGO_TARGET_DIR=target cargo build --release --target wasm32-unknown-unknown --quiet)
cp rust-counter/target/wasm32-unknown-unknown/release/rust_counter.wasm rust-counter/rust_counter.wasm
rm -rf rust-counter/target rust-counter/Cargo.lock

# The svm-sdk contracts: token and escrow (which calls token).
for c in token escrow; do
  echo "$c (Rust no_std, svm-sdk)"
  (cd "$c" && CARGO_TARGET_DIR=target cargo build --release --target wasm32-unknown-unknown --quiet)
  cp "$c/target/wasm32-unknown-unknown/release/$c.wasm" "$c/$c.wasm"
  rm -rf "$c/target" "$c/Cargo.lock"
done

echo "c-registry (C over crates/svm-sdk/include/svm_contract.h)"
clang --target=wasm32 -O2 -Wall -Werror -nostdlib -Wl,--no-entry -Wl,--strip-all \
  -o c-registry/registry.wasm c-registry/registry.c

ls -l coin/coin.wasm rust-counter/rust_counter.wasm token/token.wasm escrow/escrow.wasm c-registry/registry.wasm
