#!/usr/bin/env bash
# Regenerates crates/svm-ffi/include/svm.h: builds svm-ffi (whose build
# script runs cbindgen into OUT_DIR) and copies the newest generated header.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cargo build --workspace --all-features --locked
header=$(ls -t "$CARGO_TARGET_DIR"/debug/build/svm-ffi-*/out/svm.h | head -n 1)
cp "$header" crates/svm-ffi/include/svm.h
echo "updated crates/svm-ffi/include/svm.h from $header"
