#!/usr/bin/env bash
# Runs every test of the workspace, after installing what a fresh Debian
# machine lacks. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo test --workspace --all-features --locked
# The API docs: every intra-doc link resolves, no private item is linked
# from a public one.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --locked --no-deps
# The C API from C: a gcc-built program against the static and the dynamic
# library (under valgrind too when SVM_VALGRIND=1, as CI sets it).
bash scripts/ffi-test.sh
# The Go binding (bindings/go) over the same library: go vet and go test.
SVM_GO_SKIP_BUILD=1 bash scripts/go-test.sh
