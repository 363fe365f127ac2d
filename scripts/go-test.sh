#!/usr/bin/env bash
# Tests the Go binding (bindings/go) against the static library of svm-ffi:
# gofmt (must list no file), go vet, then go test. Offline: the module has
# no dependencies, and Go may neither download modules nor a toolchain.
# SVM_GO_SKIP_BUILD=1 skips the cargo build (the test command's own) and
# uses the libsvm_ffi.a already in $CARGO_TARGET_DIR/debug/deps.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
if [ "${SVM_GO_SKIP_BUILD:-0}" != 1 ]; then
  # The libraries from the test command's own build: `cargo test` builds
  # svm-ffi's cdylib and staticlib into deps/ (without copying them up), so
  # the workspace is not built a second time in another configuration.
  cargo test --workspace --all-features --locked --no-run
fi
lib="$CARGO_TARGET_DIR/debug/deps"
out="$CARGO_TARGET_DIR/go-test"
mkdir -p "$out"
# A copy, taken at once, as scripts/ffi-test.sh does (other clones' builds
# may write the same libsvm_ffi.a), without debug info: it links faster.
# Only the static library goes in the directory, so -lsvm_ffi links it.
strip --strip-debug -o "$out/libsvm_ffi.a.tmp" "$lib/libsvm_ffi.a"
mv "$out/libsvm_ffi.a.tmp" "$out/libsvm_ffi.a"
export CGO_ENABLED=1
export CGO_LDFLAGS="-L$out"
export GOCACHE="${GOCACHE:-$HOME/.cache/svm/go-cache}"
export GOPATH="${GOPATH:-$HOME/.cache/svm/go-path}"
export GOFLAGS=-mod=readonly
export GOPROXY=off GOTOOLCHAIN=local
cd bindings/go
echo "== Go binding ($(go version))"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...
