#!/usr/bin/env bash
# Builds the C test program of svm-ffi with gcc against the static and the
# dynamic library and runs both; with SVM_VALGRIND=1, runs them under
# valgrind --leak-check=full --error-exitcode=1 too. The test starts threads
# of its own, so it is built with -pthread.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# The libraries from the test command's own build: `cargo test` builds
# svm-ffi's cdylib and staticlib into deps/ (without copying them up), so
# the workspace is not built a second time in another configuration.
cargo test --workspace --all-features --locked --no-run
lib="$CARGO_TARGET_DIR/debug/deps"
out="$CARGO_TARGET_DIR/ffi-test"
mkdir -p "$out"
# Take copies of the libraries at once: the target directory may be shared
# with other clones, whose builds write the same libsvm_ffi.{a,so} (cargo
# gives a staticlib or cdylib no per-clone file name) once they get the
# directory's lock. Debian 12's valgrind cannot read the DWARF 5 debug info
# of the Rust and clang objects: the copies are made without it.
strip --strip-debug -o "$out/libsvm_ffi.a" "$lib/libsvm_ffi.a"
strip --strip-debug -o "$out/libsvm_ffi.so" "$lib/libsvm_ffi.so"
src=crates/svm-ffi/tests/c/test_svm.c
inc=crates/svm-ffi/include
coin=contracts/coin/coin.wasm
gcc -std=c11 -pthread -Wall -Wextra -Werror -I "$inc" "$src" "$out/libsvm_ffi.a" \
  -lstdc++ -lgcc_s -lpthread -lm -ldl -lrt -o "$out/test_static"
gcc -std=c11 -pthread -Wall -Wextra -Werror -I "$inc" "$src" -L "$out" -lsvm_ffi \
  -Wl,-rpath,"$out" -o "$out/test_dynamic"
echo "== C API, static library"
"$out/test_static" "$coin"
echo "== C API, dynamic library"
"$out/test_dynamic" "$coin"
if [ "${SVM_VALGRIND:-0}" = 1 ]; then
  for t in test_static test_dynamic; do
    echo "== C API under valgrind ($t)"
    valgrind --leak-check=full --error-exitcode=1 --quiet \
      --suppressions=crates/svm-ffi/tests/c/valgrind.supp "$out/$t" "$coin"
  done
fi
