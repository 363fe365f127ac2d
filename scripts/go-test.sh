#!/usr/bin/env bash
# Builds the C library (unless SVM_GO_SKIP_BUILD=1) and runs the Go
# binding's checks and tests (bindings/go) against a copy of the static
# library, offline: no Go module is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
if [ "${SVM_GO_SKIP_BUILD:-0}" != 1 ]; then
  cargo build --workspace --all-features --locked
fi
out="$CARGO_TARGET_DIR/go-test"
mkdir -p "$out"
# A copy: other clones sharing the target directory may rewrite it.
strip --strip-debug -o "$out/libsvm_ffi.a" "$CARGO_TARGET_DIR/debug/libsvm_ffi.a"
export CGO_ENABLED=1
export CGO_LDFLAGS="$out/libsvm_ffi.a -lstdc++ -lgcc_s -lpthread -lm -ldl -lrt"
export GOCACHE="${GOCACHE:-$HOME/.cache/svm/go-cache}"
export GOPATH="${GOPATH:-$HOME/.cache/svm/go-path}"
export GOFLAGS="-mod=mod"
export GOPROXY=off
export GOTOOLCHAIN=local
cd bindings/go
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt: not formatted: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...
