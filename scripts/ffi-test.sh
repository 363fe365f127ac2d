#!/usr/bin/env bash
# Builds the C test program of svm-ffi with gcc against the static and the
# dynamic library and runs both; with SVM_VALGRIND=1, runs them under
# valgrind --leak-check=full --error-exitcode=1 too.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cargo build --workspace --all-features --locked
lib="$CARGO_TARGET_DIR/debug"
out="$CARGO_TARGET_DIR/ffi-test"
mkdir -p "$out"
src=crates/svm-ffi/tests/c/test_svm.c
inc=crates/svm-ffi/include
coin=contracts/coin/coin.wasm
gcc -std=c11 -Wall -Wextra -Werror -I "$inc" "$src" "$lib/libsvm_ffi.a" \
  -lstdc++ -lgcc_s -lpthread -lm -ldl -lrt -o "$out/test_static"
# Debian 12's valgrind cannot read the DWARF 5 debug info of the Rust and
# clang objects: test against copies without it.
strip --strip-debug "$out/test_static"
cp "$lib/libsvm_ffi.so" "$out/libsvm_ffi.so"
strip --strip-debug "$out/libsvm_ffi.so"
gcc -std=c11 -Wall -Wextra -Werror -I "$inc" "$src" -L "$out" -lsvm_ffi \
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
