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

ls -l coin/coin.wasm rust-counter/rust_counter.wasm
