#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test svm.
# - libclang-dev: bindgen, used by the bundled RocksDB build (librocksdb-sys).
# - clang, cmake: the LevelDB build (leveldb-sys); Debian's gcc rejects its flags.
# - lld: wasm-ld, for rebuilding the C example contracts.
# - valgrind: the FFI leak check.
# - golang-go: the Go binding's tests (bindings/go, cgo).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

need=()
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v wasm-ld >/dev/null 2>&1 || need+=(lld)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v go >/dev/null 2>&1 || need+=(golang-go)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
